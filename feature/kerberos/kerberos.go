// Package kerberos is the "Kerberos Authentication" catalog item
// (SYSGEN_AUTH_KERBEROS): Kerberos V5 (RFC 4120) client login and the
// GSS-API Kerberos token (RFC 4121 section 4.1, RFC 1964 framing) that the
// RTC stack puts in SIP "Authorization: Kerberos ... gssapi-data" headers
// ([MS-SIPAE]), plus the accepting side for lab services.
//
// It is built on github.com/jcmturner/gokrb5/v8. Errors name the cause an
// OEM can act on: the KDC is unreachable, the password or key is wrong, the
// principal is unknown, or the device clock is too far from the KDC's (more
// than 5 minutes: enable SYSGEN_TIMESVC).
package kerberos

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/service"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// Sentinel errors; returned errors wrap one of them.
var (
	ErrUnreachable  = errors.New("kerberos: KDC unreachable")
	ErrCredentials  = errors.New("kerberos: wrong password or key")
	ErrUnknownUser  = errors.New("kerberos: principal unknown to the KDC")
	ErrClockSkew    = errors.New("kerberos: clock skew too great")
	ErrBadToken     = errors.New("kerberos: invalid GSS-API token")
	ErrConfig       = errors.New("kerberos: bad configuration")
	errNoCredential = errors.New("give a password or a keytab")
)

// MaxClockSkew is the Kerberos clock tolerance (RFC 4120 section 1.6).
const MaxClockSkew = 5 * time.Minute

// Config says how to reach the realm and who signs in.
type Config struct {
	// Realm, e.g. "LAB.EXAMPLE".
	Realm string
	// KDCs are host:port addresses of the realm's KDCs.
	KDCs []string
	// Principal is the user name without the realm.
	Principal string
	// Password, or KeytabFile, authenticates the principal.
	Password   string
	KeytabFile string
}

// enctypes lists what the device offers, strongest first. gokrb5 needs
// the aes-sha2 types listed explicitly to use them.
var enctypes = []int32{
	etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.AES128_CTS_HMAC_SHA256_128,
	etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96,
}

func (c Config) krb5conf() (*config.Config, error) {
	if c.Realm == "" || len(c.KDCs) == 0 {
		return nil, fmt.Errorf("%w: need a realm and at least one KDC address", ErrConfig)
	}
	conf := config.New()
	conf.LibDefaults.DefaultRealm = c.Realm
	conf.LibDefaults.DNSLookupKDC = false
	conf.LibDefaults.DNSLookupRealm = false
	conf.LibDefaults.UDPPreferenceLimit = 1 // TCP: long tickets with PACs
	conf.LibDefaults.DefaultTktEnctypeIDs = enctypes
	conf.LibDefaults.DefaultTGSEnctypeIDs = enctypes
	conf.LibDefaults.PermittedEnctypeIDs = enctypes
	conf.LibDefaults.Clockskew = MaxClockSkew
	conf.Realms = []config.Realm{{Realm: c.Realm, KDC: c.KDCs}}
	return conf, nil
}

// Client is a signed-in Kerberos principal.
type Client struct {
	cl    *client.Client
	realm string
}

// Login gets a ticket-granting ticket from the realm's KDC.
func Login(c Config) (*Client, error) {
	conf, err := c.krb5conf()
	if err != nil {
		return nil, err
	}
	var cl *client.Client
	switch {
	case c.KeytabFile != "":
		kt, err := keytab.Load(c.KeytabFile)
		if err != nil {
			return nil, fmt.Errorf("%w: keytab %s: %v", ErrConfig, c.KeytabFile, err)
		}
		cl = client.NewWithKeytab(c.Principal, c.Realm, kt, conf, client.DisablePAFXFAST(true))
	case c.Password != "":
		cl = client.NewWithPassword(c.Principal, c.Realm, c.Password, conf, client.DisablePAFXFAST(true))
	default:
		return nil, fmt.Errorf("%w: %s@%s: %v", ErrConfig, c.Principal, c.Realm, errNoCredential)
	}
	if err := cl.Login(); err != nil {
		return nil, explain(fmt.Sprintf("login as %s@%s via %s", c.Principal, c.Realm, strings.Join(c.KDCs, ", ")), err)
	}
	return &Client{cl: cl, realm: c.Realm}, nil
}

// InitialToken returns the GSS-API Kerberos initial context token (an
// AP-REQ for the service principal spn, e.g. "sip/host.example") that goes,
// base64-encoded, into a SIP Authorization header's gssapi-data.
func (c *Client) InitialToken(spn string) ([]byte, error) {
	tkt, key, err := c.cl.GetServiceTicket(spn)
	if err != nil {
		return nil, explain("service ticket for "+spn, err)
	}
	tok, err := spnego.NewKRB5TokenAPREQ(c.cl, tkt, key, []int{gssapi.ContextFlagInteg, gssapi.ContextFlagConf}, nil)
	if err != nil {
		return nil, fmt.Errorf("kerberos: AP-REQ for %s: %w", spn, err)
	}
	b, err := tok.Marshal()
	if err != nil {
		return nil, fmt.Errorf("kerberos: AP-REQ for %s: %w", spn, err)
	}
	return b, nil
}

// Close forgets the client's tickets.
func (c *Client) Close() { c.cl.Destroy() }

// Acceptor verifies initial tokens for a service, with the service's keytab.
type Acceptor struct {
	kt        *keytab.Keytab
	principal string
}

// NewAcceptor loads the keytab of the service principal (e.g. "sip/lab.example").
func NewAcceptor(keytabFile, principal string) (*Acceptor, error) {
	kt, err := keytab.Load(keytabFile)
	if err != nil {
		return nil, fmt.Errorf("%w: keytab %s: %v", ErrConfig, keytabFile, err)
	}
	return &Acceptor{kt: kt, principal: principal}, nil
}

// MaxTokenSize bounds an initial token; tickets with PACs are a few KiB.
const MaxTokenSize = 64 << 10

// Accept verifies an initial context token and returns the client
// principal ("user@REALM").
func (a *Acceptor) Accept(token []byte) (string, error) {
	if len(token) == 0 || len(token) > MaxTokenSize {
		return "", fmt.Errorf("%w: %d bytes", ErrBadToken, len(token))
	}
	var tok spnego.KRB5Token
	if err := tok.Unmarshal(token); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	if !tok.IsAPReq() {
		return "", fmt.Errorf("%w: not an AP-REQ", ErrBadToken)
	}
	s := service.NewSettings(a.kt, service.KeytabPrincipal(a.principal), service.DecodePAC(false), service.MaxClockSkew(MaxClockSkew))
	ok, creds, err := service.VerifyAPREQ(&tok.APReq, s)
	if err != nil {
		return "", explain("verify AP-REQ", err)
	}
	if !ok || creds == nil {
		return "", fmt.Errorf("%w: AP-REQ not accepted", ErrBadToken)
	}
	return creds.UserName() + "@" + creds.Domain(), nil
}

// explain maps gokrb5's errors to the sentinels, keeping the detail.
func explain(op string, err error) error {
	var kerr messages.KRBError
	code := int32(-1)
	if errors.As(err, &kerr) {
		code = kerr.ErrorCode
	}
	msg := err.Error()
	has := func(c int32, name string) bool { return code == c || strings.Contains(msg, name) }
	switch {
	case has(errorcode.KRB_AP_ERR_SKEW, "KRB_AP_ERR_SKEW") || strings.Contains(msg, "clock skew"):
		return fmt.Errorf("%w: %s: the device clock is more than %v away from the KDC's; enable SYSGEN_TIMESVC or set the clock (%v)", ErrClockSkew, op, MaxClockSkew, err)
	case has(errorcode.KDC_ERR_PREAUTH_FAILED, "KDC_ERR_PREAUTH_FAILED") || strings.Contains(msg, "KRB_AP_ERR_BAD_INTEGRITY") || strings.Contains(msg, "Decryption integrity check failed") || strings.Contains(msg, "password/keytab incorrect"):
		return fmt.Errorf("%w: %s: check the password or keytab (%v)", ErrCredentials, op, err)
	case has(errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN, "KDC_ERR_C_PRINCIPAL_UNKNOWN") || strings.Contains(msg, "KDC_ERR_S_PRINCIPAL_UNKNOWN"):
		return fmt.Errorf("%w: %s: check the user or service name and realm (%v)", ErrUnknownUser, op, err)
	case strings.Contains(msg, "connection refused") || strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "no KDCs") || strings.Contains(msg, "communicating with KDC") || errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%w: %s: check the KDC address and that TCP/UDP 88 is open (%v)", ErrUnreachable, op, err)
	}
	return fmt.Errorf("kerberos: %s: %w", op, err)
}

// Package kerberos is the "Kerberos Authentication" catalog item
// (SYSGEN_AUTH_KERBEROS): Kerberos V5 (RFC 4120) client login and the
// GSS-API Kerberos initial token (RFC 4121 section 4.1, RFC 1964 framing)
// that the RTC stack puts in SIP "Authorization: Kerberos ... gssapi-data"
// headers ([MS-SIPAE]), plus the accepting side for lab services, whose
// clock can be set by a hook for tests. Per-message tokens (the SIP
// signatures) are in the gss subpackage; the SIP binding in sipae.
//
// It is built on github.com/jcmturner/gokrb5/v8. Errors name the cause an
// OEM can act on: the KDC is unreachable (at the configured address), the
// password or key is wrong, the principal is unknown, the device clock is
// too far from the KDC's (the measured skew; enable SYSGEN_TIMESVC), the
// ticket expired, the token is corrupted or replayed. gokrb5's client
// flattens KDC errors into strings, so on a failed login the AS exchange
// is repeated here with gokrb5's message types and the decision is made
// on the KRBError's code (see diagnose.go), never on error wording.
package kerberos

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Sentinel errors; returned errors wrap one of them.
var (
	ErrUnreachable = errors.New("kerberos: KDC unreachable")
	ErrCredentials = errors.New("kerberos: wrong password or key")
	ErrUnknownUser = errors.New("kerberos: principal unknown to the KDC")
	ErrClockSkew   = errors.New("kerberos: clock skew too great")
	ErrExpired     = errors.New("kerberos: ticket expired")
	ErrBadToken    = errors.New("kerberos: invalid GSS-API token")
	ErrReplay      = errors.New("kerberos: replayed token")
	ErrEnctype     = errors.New("kerberos: no usable encryption type")
	ErrConfig      = errors.New("kerberos: bad configuration")
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
	// Enctypes overrides the offered encryption types (strongest first);
	// empty means DefaultEnctypes, plus rc4-hmac when AllowRC4 is set.
	Enctypes []int32
	// AllowRC4 lets the device use rc4-hmac (RFC 4757) where a realm
	// still offers nothing better.
	AllowRC4 bool
}

// DefaultEnctypes is what the device offers, strongest first. gokrb5
// needs the aes-sha2 types listed explicitly to use them.
var DefaultEnctypes = []int32{
	etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.AES128_CTS_HMAC_SHA256_128,
	etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA1_96,
}

func (c Config) enctypes() ([]int32, error) {
	e := c.Enctypes
	if len(e) == 0 {
		e = append([]int32(nil), DefaultEnctypes...)
		if c.AllowRC4 {
			e = append(e, etypeID.RC4_HMAC)
		}
	}
	for _, id := range e {
		if id == etypeID.RC4_HMAC && !c.AllowRC4 {
			return nil, fmt.Errorf("%w: rc4-hmac is listed but refused; set AllowRC4 (kerberos.allow_rc4) to use it", ErrConfig)
		}
	}
	return e, nil
}

func (c Config) krb5conf() (*config.Config, error) {
	if c.Realm == "" || len(c.KDCs) == 0 {
		return nil, fmt.Errorf("%w: need a realm and at least one KDC address", ErrConfig)
	}
	e, err := c.enctypes()
	if err != nil {
		return nil, err
	}
	conf := config.New()
	conf.LibDefaults.DefaultRealm = c.Realm
	conf.LibDefaults.DNSLookupKDC = false
	conf.LibDefaults.DNSLookupRealm = false
	conf.LibDefaults.UDPPreferenceLimit = 1 // TCP: long tickets with PACs
	conf.LibDefaults.DefaultTktEnctypeIDs = e
	conf.LibDefaults.DefaultTGSEnctypeIDs = e
	conf.LibDefaults.PermittedEnctypeIDs = e
	conf.LibDefaults.Clockskew = MaxClockSkew
	conf.Realms = []config.Realm{{Realm: c.Realm, KDC: c.KDCs}}
	return conf, nil
}

// Client is a signed-in Kerberos principal.
type Client struct {
	cl   *client.Client
	cfg  Config
	conf *config.Config
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
		return nil, fmt.Errorf("%w: %s@%s: give a password or a keytab", ErrConfig, c.Principal, c.Realm)
	}
	if err := cl.Login(); err != nil {
		return nil, diagnose(c, conf, err)
	}
	return &Client{cl: cl, cfg: c, conf: conf}, nil
}

// Principal is "user@REALM".
func (c *Client) Principal() string { return c.cfg.Principal + "@" + c.cfg.Realm }

// InitialToken returns the GSS-API Kerberos initial context token (an
// AP-REQ for the service principal spn, e.g. "sip/host.example") that goes,
// base64-encoded, into a SIP Authorization header's gssapi-data.
func (c *Client) InitialToken(spn string) ([]byte, error) {
	tok, _, err := c.InitialContext(spn)
	return tok, err
}

// InitialContext is InitialToken plus the context key, which signs the
// per-message tokens (package gss). gokrb5 sends no authenticator subkey,
// so the key is the ticket's session key (RFC 4121 section 2).
func (c *Client) InitialContext(spn string) ([]byte, types.EncryptionKey, error) {
	tkt, key, err := c.cl.GetServiceTicket(spn)
	if err != nil {
		return nil, key, diagnoseTGS(c.cfg, c.conf, spn, err)
	}
	if key.KeyType == etypeID.RC4_HMAC && !c.cfg.AllowRC4 {
		return nil, key, fmt.Errorf("%w: the realm issued an rc4-hmac session key for %s, which this device refuses; add AES keys to %s or set kerberos.allow_rc4", ErrEnctype, spn, spn)
	}
	tok, err := spnego.NewKRB5TokenAPREQ(c.cl, tkt, key, []int{gssapi.ContextFlagInteg, gssapi.ContextFlagConf}, nil)
	if err != nil {
		return nil, key, fmt.Errorf("kerberos: AP-REQ for %s: %w", spn, err)
	}
	b, err := tok.Marshal()
	if err != nil {
		return nil, key, fmt.Errorf("kerberos: AP-REQ for %s: %w", spn, err)
	}
	return b, key, nil
}

// Close forgets the client's tickets.
func (c *Client) Close() { c.cl.Destroy() }

// MaxTokenSize bounds an initial token; tickets with PACs are a few KiB.
const MaxTokenSize = 64 << 10

// EnctypeName names an encryption type for messages: its RFC name
// (the longest of gokrb5's aliases, e.g. aes256-cts-hmac-sha384-192, not
// aes256-sha2), the same every time.
func EnctypeName(id int32) string {
	best := ""
	for name, v := range etypeID.ETypesByName {
		if v == id && strings.Contains(name, "-") && (len(name) > len(best) || len(name) == len(best) && name < best) {
			best = name
		}
	}
	if best == "" {
		return fmt.Sprintf("etype %d", id)
	}
	return best
}

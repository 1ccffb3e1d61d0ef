package kerberos

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// kdcTimeout bounds one exchange with a KDC.
const kdcTimeout = 5 * time.Second

// diagnose explains a failed login. gokrb5's client returns KDC errors as
// flattened strings (krberror.Krberror), so the AS exchange is repeated
// with gokrb5's message types and the decision is made on the typed
// result: a network error from dialing the configured addresses, or a
// messages.KRBError and its ErrorCode.
func diagnose(c Config, conf *config.Config, loginErr error) error {
	who := c.Principal + "@" + c.Realm
	kdcs := strings.Join(c.KDCs, ", ")
	kerr, netErr := asExchange(c, conf)
	switch {
	case netErr != nil:
		return fmt.Errorf("%w: sign-in as %s: no KDC answered at %s (the configured kerberos.kdc): %v; check the address, the port and that the KDC runs", ErrUnreachable, who, kdcs, netErr)
	case kerr == nil:
		// The repeated exchange worked: the first failure was transient or
		// came after the AS exchange.
		return fmt.Errorf("kerberos: sign-in as %s via %s: %w", who, kdcs, loginErr)
	}
	return explainKRB(*kerr, who, kdcs)
}

// explainKRB turns a KRB-ERROR into an error that says what to fix.
func explainKRB(kerr messages.KRBError, who, kdcs string) error {
	switch kerr.ErrorCode {
	case errorcode.KDC_ERR_PREAUTH_FAILED, errorcode.KRB_AP_ERR_BAD_INTEGRITY:
		return fmt.Errorf("%w: the KDC at %s refused the password or key of %s: check the password, or export the keytab again (kvno changed)", ErrCredentials, kdcs, who)
	case errorcode.KDC_ERR_C_PRINCIPAL_UNKNOWN:
		return fmt.Errorf("%w: the KDC at %s does not know %s: check the user name and the realm", ErrUnknownUser, kdcs, who)
	case errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return fmt.Errorf("%w: the KDC at %s does not know the service %s: check the server's targetname and the realm", ErrUnknownUser, kdcs, kerr.SName.PrincipalNameString())
	case errorcode.KRB_AP_ERR_SKEW:
		skew := kerr.STime.Sub(time.Now())
		return fmt.Errorf("sign-in as %s at %s: %w", who, kdcs, &SkewError{Skew: skew, Side: "KDC"})
	case errorcode.KDC_ERR_ETYPE_NOSUPP:
		return fmt.Errorf("%w: the KDC at %s has no key for %s in the encryption types this device offers (rc4-hmac is off unless kerberos.allow_rc4 is set): add AES keys to the principal", ErrEnctype, kdcs, who)
	case errorcode.KDC_ERR_KEY_EXPIRED:
		return fmt.Errorf("%w: the password of %s expired: change it at the KDC", ErrCredentials, who)
	case errorcode.KDC_ERR_CLIENT_REVOKED:
		return fmt.Errorf("%w: %s is disabled or locked at the KDC", ErrCredentials, who)
	}
	return fmt.Errorf("kerberos: the KDC at %s refused %s: KRB-ERROR %d (%s)", kdcs, who, kerr.ErrorCode, errorcode.Lookup(kerr.ErrorCode))
}

// diagnoseTGS explains a failed service-ticket request. As for the AS
// exchange, gokrb5 flattens the KDC's error, so the TGS exchange is
// repeated with gokrb5's message types and the KRB-ERROR's code decides.
func diagnoseTGS(c Config, conf *config.Config, spn string, err error) error {
	who, kdcs := c.Principal+"@"+c.Realm, strings.Join(c.KDCs, ", ")
	kerr, netErr := tgsExchange(c, conf, spn)
	switch {
	case netErr != nil:
		return fmt.Errorf("%w: service ticket for %s: no KDC answered at %s (the configured kerberos.kdc): %v", ErrUnreachable, spn, kdcs, netErr)
	case kerr != nil:
		return explainTGS(*kerr, who, kdcs, spn)
	}
	return fmt.Errorf("kerberos: service ticket for %s via %s: %w", spn, kdcs, err)
}

func explainTGS(kerr messages.KRBError, who, kdcs, spn string) error {
	switch kerr.ErrorCode {
	case errorcode.KDC_ERR_S_PRINCIPAL_UNKNOWN:
		return fmt.Errorf("%w: the KDC at %s does not know the service %s: check the SIP server's targetname and that its principal exists", ErrUnknownUser, kdcs, spn)
	case errorcode.KDC_ERR_ETYPE_NOSUPP:
		return fmt.Errorf("%w: the KDC at %s can give %s no ticket for %s in the encryption types this device offers; the service may have only rc4-hmac keys (set kerberos.allow_rc4 to accept them, or give %s AES keys)", ErrEnctype, kdcs, who, spn, spn)
	}
	return explainKRB(kerr, who, kdcs)
}

// asExchange sends an AS-REQ (with encrypted-timestamp pre-authentication
// when the KDC asks for it) and returns the KDC's KRB-ERROR, nil if the
// KDC issued a ticket, or the network error.
func asExchange(c Config, conf *config.Config) (*messages.KRBError, error) {
	kerr, _, err := asExchangeTGT(c, conf)
	return kerr, err
}

// tgt is a ticket-granting ticket from asExchangeTGT.
type tgt struct {
	ticket messages.Ticket
	key    types.EncryptionKey
}

// asExchangeTGT is asExchange that also returns the TGT when the KDC
// issued one.
func asExchangeTGT(c Config, conf *config.Config) (*messages.KRBError, *tgt, error) {
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, c.Principal)
	req, err := messages.NewASReqForTGT(c.Realm, conf, cname)
	if err != nil {
		return nil, nil, err
	}
	for round := 0; round < 2; round++ {
		b, err := req.Marshal()
		if err != nil {
			return nil, nil, err
		}
		rb, err := sendTCP(c.KDCs, b)
		if err != nil {
			return nil, nil, err
		}
		var rep messages.ASRep
		if rep.Unmarshal(rb) == nil {
			// A principal without required pre-authentication gets an
			// AS-REP at once: a wrong key shows as one that does not
			// decrypt it.
			key, err := clientKey(c, cname, rep.EncPart.EType, rep.PAData)
			if err != nil {
				return nil, nil, err
			}
			plain, err := crypto.DecryptEncPart(rep.EncPart, key, keyusage.AS_REP_ENCPART)
			if err != nil {
				return &messages.KRBError{ErrorCode: errorcode.KDC_ERR_PREAUTH_FAILED}, nil, nil
			}
			var enc messages.EncKDCRepPart
			if err := enc.Unmarshal(plain); err != nil {
				return nil, nil, fmt.Errorf("the KDC's AS-REP: %v", err)
			}
			return nil, &tgt{ticket: rep.Ticket, key: enc.Key}, nil
		}
		var kerr messages.KRBError
		if err := kerr.Unmarshal(rb); err != nil {
			return nil, nil, fmt.Errorf("the KDC's reply is neither AS-REP nor KRB-ERROR: %v", err)
		}
		if kerr.ErrorCode != errorcode.KDC_ERR_PREAUTH_REQUIRED || round > 0 {
			return &kerr, nil, nil
		}
		pa, err := preauth(c, cname, kerr)
		if err != nil {
			return nil, nil, err
		}
		req.PAData = append(req.PAData, pa)
	}
	return nil, nil, nil
}

// tgsExchange asks for a ticket to spn with a TGT of our own and returns
// the KDC's KRB-ERROR, nil if it issued the ticket, or the network error.
func tgsExchange(c Config, conf *config.Config, spn string) (*messages.KRBError, error) {
	kerr, t, err := asExchangeTGT(c, conf)
	if err != nil || kerr != nil {
		return kerr, err
	}
	if t == nil {
		return nil, errors.New("the KDC issued no TGT")
	}
	cname := types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, c.Principal)
	req, err := messages.NewTGSReq(cname, c.Realm, conf, t.ticket, t.key, types.NewPrincipalName(nametype.KRB_NT_SRV_INST, spn), false)
	if err != nil {
		return nil, err
	}
	b, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	rb, err := sendTCP(c.KDCs, b)
	if err != nil {
		return nil, err
	}
	var rep messages.TGSRep
	if rep.Unmarshal(rb) == nil {
		return nil, nil
	}
	var ke messages.KRBError
	if err := ke.Unmarshal(rb); err != nil {
		return nil, fmt.Errorf("the KDC's reply is neither TGS-REP nor KRB-ERROR: %v", err)
	}
	return &ke, nil
}

// preauth builds PA-ENC-TIMESTAMP (RFC 4120 section 5.2.7.2) with the
// etype and salt of the KDC's ETYPE-INFO2.
func preauth(c Config, cname types.PrincipalName, kerr messages.KRBError) (types.PAData, error) {
	var pas types.PADataSequence
	if err := pas.Unmarshal(kerr.EData); err != nil {
		return types.PAData{}, fmt.Errorf("KDC pre-auth hint: %v", err)
	}
	var et int32
	for _, p := range pas {
		if p.PADataType == patype.PA_ETYPE_INFO2 {
			var info types.ETypeInfo2
			if info.Unmarshal(p.PADataValue) == nil && len(info) > 0 {
				et = info[0].EType
			}
		}
	}
	if et == 0 {
		return types.PAData{}, errors.New("KDC sent no ETYPE-INFO2")
	}
	key, err := clientKey(c, cname, et, pas)
	if err != nil {
		return types.PAData{}, err
	}
	ts, err := types.GetPAEncTSEncAsnMarshalled()
	if err != nil {
		return types.PAData{}, err
	}
	ed, err := crypto.GetEncryptedData(ts, key, keyusage.AS_REQ_PA_ENC_TIMESTAMP, 0)
	if err != nil {
		return types.PAData{}, err
	}
	edb, err := ed.Marshal()
	if err != nil {
		return types.PAData{}, err
	}
	return types.PAData{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: edb}, nil
}

// sendTCP sends one KDC message over TCP (RFC 4120 section 7.2.2: a
// 4-byte big-endian length, then the message) to the first KDC that answers.
func sendTCP(kdcs []string, msg []byte) ([]byte, error) {
	var errs []string
	for _, addr := range kdcs {
		rb, err := func() ([]byte, error) {
			conn, err := net.DialTimeout("tcp", addr, kdcTimeout)
			if err != nil {
				return nil, err
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(kdcTimeout))
			out := make([]byte, 4+len(msg))
			binary.BigEndian.PutUint32(out, uint32(len(msg)))
			copy(out[4:], msg)
			if _, err := conn.Write(out); err != nil {
				return nil, err
			}
			var l [4]byte
			if _, err := io.ReadFull(conn, l[:]); err != nil {
				return nil, err
			}
			n := binary.BigEndian.Uint32(l[:])
			if n == 0 || n > 1<<20 {
				return nil, fmt.Errorf("KDC at %s sent a reply of %d bytes", addr, n)
			}
			rb := make([]byte, n)
			_, err = io.ReadFull(conn, rb)
			return rb, err
		}()
		if err == nil {
			return rb, nil
		}
		errs = append(errs, err.Error())
	}
	return nil, errors.New(strings.Join(errs, "; "))
}

// clientKey is the principal's long-term key of etype et, from the keytab
// or derived from the password with the KDC's salt hints.
func clientKey(c Config, cname types.PrincipalName, et int32, pas types.PADataSequence) (types.EncryptionKey, error) {
	if c.KeytabFile != "" {
		kt, err := keytab.Load(c.KeytabFile)
		if err != nil {
			return types.EncryptionKey{}, err
		}
		key, _, err := kt.GetEncryptionKey(cname, c.Realm, 0, et)
		if err != nil {
			return key, fmt.Errorf("%w: the keytab %s has no %s key for %s@%s", ErrCredentials, c.KeytabFile, EnctypeName(et), c.Principal, c.Realm)
		}
		return key, nil
	}
	key, _, err := crypto.GetKeyFromPassword(c.Password, cname, c.Realm, et, pas)
	return key, err
}

package kerberos

import (
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/jcmturner/gokrb5/v8/asn1tools"
	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
)

// maxEText bounds the e-text an error token carries.
const maxEText = 512

// krb5OID is the Kerberos V5 GSS-API mechanism (RFC 1964 section 1).
var krb5OID = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}

// ErrorToken is the GSS-API error token (RFC 4121 section 4.1: TOK_ID
// 03 00 and a KRB-ERROR, in the RFC 1964 framing) an acceptor returns for
// a refused AP-REQ, so the initiator learns why with a Kerberos error code
// rather than prose: KRB_AP_ERR_SKEW (with the acceptor's time, from which
// the initiator measures the skew), KRB_AP_ERR_TKT_EXPIRED,
// KRB_AP_ERR_REPEAT, KRB_AP_ERR_BAD_INTEGRITY. err is what Accept returned.
func (a *Acceptor) ErrorToken(err error) ([]byte, error) {
	etext := err.Error()
	if len(etext) > maxEText {
		etext = etext[:maxEText]
	}
	now := a.Now().UTC()
	kerr := messages.NewKRBError(a.principal, "", KRBErrorCode(err), etext)
	kerr.STime, kerr.Susec = now.Truncate(time.Second), now.Nanosecond()/1000
	kb, merr := kerr.Marshal()
	if merr != nil {
		return nil, fmt.Errorf("kerberos: error token: %w", merr)
	}
	b, merr := asn1.Marshal(krb5OID)
	if merr != nil {
		return nil, fmt.Errorf("kerberos: error token: %w", merr)
	}
	b = append(b, 0x03, 0x00)
	b = append(b, kb...)
	return asn1tools.AddASNAppTag(b, 0), nil
}

// ParseErrorToken reads an acceptor's error token and returns the error it
// reports, typed by its KRB-ERROR code (wrapping ErrClockSkew as a
// *SkewError measured against now, ErrExpired, ErrReplay or ErrBadToken)
// with the acceptor's e-text. from names the acceptor in the message.
func ParseErrorToken(b []byte, from string, now time.Time) error {
	if len(b) == 0 || len(b) > MaxTokenSize {
		return fmt.Errorf("%w: error token from %s of %d bytes", ErrBadToken, from, len(b))
	}
	var tok spnego.KRB5Token
	if err := tok.Unmarshal(b); err != nil || !tok.IsKRBError() {
		return fmt.Errorf("%w: %s sent a token that is not a Kerberos error token", ErrBadToken, from)
	}
	kerr := tok.KRBError
	etext := kerr.EText
	if len(etext) > maxEText {
		etext = etext[:maxEText]
	}
	says := ""
	if etext != "" {
		says = fmt.Sprintf(" (%s says: %s)", from, etext)
	}
	switch kerr.ErrorCode {
	case errorcode.KRB_AP_ERR_SKEW:
		return fmt.Errorf("%s refused the ticket%s: %w", from, says, &SkewError{Skew: kerr.STime.Sub(now), Side: from})
	case errorcode.KRB_AP_ERR_TKT_EXPIRED:
		return fmt.Errorf("%w: %s refused the ticket as expired%s: sign in again for a new one", ErrExpired, from, says)
	case errorcode.KRB_AP_ERR_REPEAT:
		return fmt.Errorf("%w: %s saw this authenticator before%s", ErrReplay, from, says)
	case errorcode.KRB_AP_ERR_BAD_INTEGRITY, errorcode.KRB_AP_ERR_MODIFIED:
		return fmt.Errorf("%w: %s could not decrypt the ticket or authenticator%s: the service's keytab and the KDC disagree", ErrBadToken, from, says)
	}
	return fmt.Errorf("kerberos: %s refused the AP-REQ: KRB-ERROR %d (%s)%s", from, kerr.ErrorCode, errorcode.Lookup(kerr.ErrorCode), says)
}

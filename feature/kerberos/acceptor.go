package kerberos

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/errorcode"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/spnego"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Acceptor verifies initial tokens for a service, with the service's keytab.
type Acceptor struct {
	kt        *keytab.Keytab
	principal types.PrincipalName
	// Now is the service's clock; tests move it to check skew handling.
	Now func() time.Time

	mu     sync.Mutex
	replay map[replayKey]time.Time
}

type replayKey struct {
	client string
	ctime  int64
	cusec  int
}

// NewAcceptor loads the keytab of the service principal (e.g. "sip/lab.example").
func NewAcceptor(keytabFile, principal string) (*Acceptor, error) {
	kt, err := keytab.Load(keytabFile)
	if err != nil {
		return nil, fmt.Errorf("%w: keytab %s: %v", ErrConfig, keytabFile, err)
	}
	return &Acceptor{kt: kt, principal: types.NewPrincipalName(nametype.KRB_NT_SRV_INST, principal), Now: time.Now, replay: map[replayKey]time.Time{}}, nil
}

// Accepted is a verified initial token.
type Accepted struct {
	Client  string              // "user@REALM"
	Key     types.EncryptionKey // the context key (ticket session key or initiator subkey)
	Expires time.Time           // ticket end time
}

// Accept verifies an initial context token (RFC 4121 section 4.1) and
// returns the client principal and the context key. The checks are those
// of RFC 4120 section 3.2.3, made against a.Now.
func (a *Acceptor) Accept(token []byte) (*Accepted, error) {
	if len(token) == 0 || len(token) > MaxTokenSize {
		return nil, fmt.Errorf("%w: %d bytes (want 1 to %d)", ErrBadToken, len(token), MaxTokenSize)
	}
	var tok spnego.KRB5Token
	if err := tok.Unmarshal(token); err != nil {
		return nil, fmt.Errorf("%w: not a Kerberos AP-REQ token: %v", ErrBadToken, err)
	}
	if !tok.IsAPReq() {
		return nil, fmt.Errorf("%w: not an AP-REQ", ErrBadToken)
	}
	ap := &tok.APReq
	if err := ap.Ticket.DecryptEncPart(a.kt, &a.principal); err != nil {
		return nil, fmt.Errorf("%w: the ticket does not decrypt with the keytab of %s (kvno %d, %s): renew the keytab or the client's ticket",
			ErrBadToken, a.principal.PrincipalNameString(), ap.Ticket.EncPart.KVNO, EnctypeName(ap.Ticket.EncPart.EType))
	}
	enc := ap.Ticket.DecryptedEncPart
	if err := ap.DecryptAuthenticator(enc.Key); err != nil {
		return nil, fmt.Errorf("%w: authenticator does not decrypt with the ticket's session key (corrupted token)", ErrBadToken)
	}
	if !ap.Authenticator.CName.Equal(enc.CName) {
		return nil, fmt.Errorf("%w: authenticator names %s, ticket %s", ErrBadToken, ap.Authenticator.CName.PrincipalNameString(), enc.CName.PrincipalNameString())
	}
	now := a.Now().UTC()
	client := enc.CName.PrincipalNameString() + "@" + ap.Ticket.Realm
	if now.After(enc.EndTime.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: the ticket of %s ended at %s, %s ago by the service's clock: get a new ticket",
			ErrExpired, client, enc.EndTime.Format(time.RFC3339), now.Sub(enc.EndTime).Round(time.Second))
	}
	ct := ap.Authenticator.CTime.Add(time.Duration(ap.Authenticator.Cusec) * time.Microsecond)
	if skew := ct.Sub(now); skew > MaxClockSkew || skew < -MaxClockSkew {
		return nil, &SkewError{Skew: skew, Side: "client"}
	}
	if !enc.StartTime.IsZero() && enc.StartTime.After(now.Add(MaxClockSkew)) {
		return nil, fmt.Errorf("%w: the ticket of %s starts at %s, %s ahead of the service's clock: set the clocks (SYSGEN_TIMESVC)",
			ErrClockSkew, client, enc.StartTime.Format(time.RFC3339), enc.StartTime.Sub(now).Round(time.Second))
	}
	if err := a.checkReplay(replayKey{client, ap.Authenticator.CTime.Unix(), ap.Authenticator.Cusec}, now); err != nil {
		return nil, err
	}
	key := enc.Key
	if ap.Authenticator.SubKey.KeyType != 0 && len(ap.Authenticator.SubKey.KeyValue) > 0 {
		key = ap.Authenticator.SubKey
	}
	return &Accepted{Client: client, Key: key, Expires: enc.EndTime}, nil
}

func (a *Acceptor) checkReplay(k replayKey, now time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.replay == nil {
		a.replay = map[replayKey]time.Time{}
	}
	if len(a.replay) > 4096 {
		for old, t := range a.replay {
			if now.Sub(t) > 2*MaxClockSkew {
				delete(a.replay, old)
			}
		}
	}
	if _, ok := a.replay[k]; ok {
		return fmt.Errorf("%w: this AP-REQ of %s was already accepted (RFC 4120 section 3.2.3); send a fresh one", ErrReplay, k.client)
	}
	a.replay[k] = now
	return nil
}

// SkewError is a clock skew beyond MaxClockSkew, with the measured value.
type SkewError struct {
	// Skew is the other side's clock minus ours.
	Skew time.Duration
	// Side is whose clock was compared with ours ("client", "KDC", "server").
	Side string
	// Advice replaces the default advice (enable SYSGEN_TIMESVC) when the
	// caller knows more, e.g. the time service's state.
	Advice string
}

func (e *SkewError) Error() string {
	d := e.Skew.Round(time.Second)
	dir := "ahead of"
	if d < 0 {
		d, dir = -d, "behind"
	}
	span := d.String()
	if d >= 48*time.Hour {
		span = fmt.Sprintf("%d days %s", d/(24*time.Hour), d%(24*time.Hour))
	}
	advice := e.Advice
	if advice == "" {
		advice = "set the device clock (enable SYSGEN_TIMESVC)"
	}
	return fmt.Sprintf("kerberos: clock skew too great: the %s clock is %s %s this one (limit %s); %s", e.Side, span, dir, MaxClockSkew, advice)
}

// Unwrap makes errors.Is(err, ErrClockSkew) hold.
func (e *SkewError) Unwrap() error { return ErrClockSkew }

// KRBErrorCode is the KRB-ERROR code that err maps to for a peer, or
// KRB_ERR_GENERIC.
func KRBErrorCode(err error) int32 {
	switch {
	case errors.Is(err, ErrClockSkew):
		return errorcode.KRB_AP_ERR_SKEW
	case errors.Is(err, ErrExpired):
		return errorcode.KRB_AP_ERR_TKT_EXPIRED
	case errors.Is(err, ErrReplay):
		return errorcode.KRB_AP_ERR_REPEAT
	case errors.Is(err, ErrBadToken):
		return errorcode.KRB_AP_ERR_BAD_INTEGRITY
	}
	return errorcode.KRB_ERR_GENERIC
}

var _ = messages.KRBError{}

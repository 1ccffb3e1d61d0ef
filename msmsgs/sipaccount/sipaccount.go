// Package sipaccount is msmsgs's second account type: a SIP
// Communications Service (Live Communications Server) account that signs
// in with Kerberos ([MS-SIPAE], feature/kerberos/sipua), beside or instead
// of the .NET Messenger account. It keeps the account signed in (signing
// in again with backoff when the connection ends; sipua renews the
// registration and the Kerberos tickets before they expire), publishes the
// user's presence, watches contacts' presence and sends and receives
// instant messages, and surfaces them as the same ctl events the MSNP
// account emits ("presence", "message", "signed-in", "disconnected",
// "error"), with the SIP URI (sip:...) as the event's account, so `msmsgs
// ctl wait presence account=sip:bob@lab.example` works as for MSNP.
//
// Sign-in failures name what to fix: the password, the principal, the KDC
// at its configured address, the clock (the measured skew and the time
// service's state), an expired ticket, a server whose signature does not
// verify. The decisions are made on the kerberos and sipua sentinel
// errors, which the Kerberos layer derives from gokrb5's message types.
package sipaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/feature/timesvc"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Config configures the account.
type Config struct {
	// UA is the SIP account: URI, server and Kerberos sign-in.
	UA sipua.Config
	// Krb5Conf is where the krb5.conf generated from UA.Kerberos is
	// written when the account starts ("" writes none).
	Krb5Conf string
	// Status is the presence published after sign-in (default online).
	Status msnp.Status
	// Publish puts an event on the daemon's event stream.
	Publish func(client.Event) client.Event
	// LastSeq returns the stream's last sequence number (for Info).
	LastSeq func() uint64
	// TimeStatus is the time service's status file, quoted in clock skew
	// errors (default timesvc.StatusPath).
	TimeStatus string
	// ContactsFile keeps the watched contacts across restarts ("" keeps
	// them in memory only).
	ContactsFile string
	// BackoffMin and BackoffMax bound the wait between sign-in attempts
	// (default 1 s and 2 min).
	BackoffMin, BackoffMax time.Duration
	Logger                 *slog.Logger
}

// State is where the account is.
type State string

// Account states.
const (
	StateOffline   State = "offline"
	StateSigningIn State = "signing-in"
	StateSignedIn  State = "signed-in"
)

// Info is the account's state, for `msmsgs ctl status sip:`.
type Info struct {
	Account  string      `json:"account"`
	Server   string      `json:"server"`
	Realm    string      `json:"realm"`
	State    State       `json:"state"`
	Status   msnp.Status `json:"status"`
	Enctype  string      `json:"enctype,omitempty"` // the signatures' Kerberos session key type
	Error    string      `json:"error,omitempty"`   // the last sign-in failure
	Reason   string      `json:"reason,omitempty"`  // its kind (see Reason)
	LastSeq  uint64      `json:"last_seq"`
	Contacts int         `json:"contacts"`
	// SignIn is how long the last sign-in took (AS, TGS+AP-REQ, REGISTER).
	SignIn struct {
		AS, TGS, Register string `json:",omitempty"`
	} `json:"signin"`
}

// Contact is a watched SIP contact.
type Contact struct {
	Account string      `json:"account"`
	Status  msnp.Status `json:"status"`
}

// ErrNotSignedIn is returned by commands while the account is not signed in.
var ErrNotSignedIn = errors.New("sipaccount: the SIP account is not signed in (wait-signin sip:, or see status sip: for why)")

// Account is a running SIP account.
type Account struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	ua       *sipua.UA
	state    State
	status   msnp.Status
	contacts map[string]msnp.Status // watched URI -> last status
	lastErr  error
	onDialog func(*sipua.UA, *sipmsg.Message)
	signedIn chan struct{} // closed while signed in; replaced when the account goes offline
	failed   chan struct{} // closed at each failed sign-in, then replaced
}

// New checks the configuration. Run signs in.
func New(cfg Config) (*Account, error) {
	if cfg.Publish == nil {
		return nil, errors.New("sipaccount: no event stream (Publish)")
	}
	if cfg.Status == "" {
		cfg.Status = msnp.StatusOnline
	}
	if _, ok := toSIP[cfg.Status]; !ok {
		return nil, fmt.Errorf("sipaccount: status %q cannot be published", cfg.Status)
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 2 * time.Minute
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMin = cfg.BackoffMax
	}
	if cfg.TimeStatus == "" {
		cfg.TimeStatus = timesvc.StatusPath
	}
	if cfg.LastSeq == nil {
		cfg.LastSeq = func() uint64 { return 0 }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if _, err := cfg.UA.Kerberos.Krb5Conf(); err != nil {
		return nil, fmt.Errorf("sipaccount: %s: %w (check kerberos.realm and kerberos.kdc)", cfg.UA.URI, err)
	}
	a := &Account{cfg: cfg, log: cfg.Logger, state: StateOffline, status: cfg.Status,
		contacts: map[string]msnp.Status{}, signedIn: make(chan struct{}), failed: make(chan struct{})}
	if cfg.ContactsFile != "" {
		uris, err := loadContacts(cfg.ContactsFile)
		if err != nil {
			return nil, err
		}
		for _, u := range uris {
			a.contacts[u] = msnp.StatusOffline
		}
	}
	return a, nil
}

// URI is the account's address of record.
func (a *Account) URI() string { return a.cfg.UA.URI }

// toSIP maps the Messenger statuses to the XPIDF substatus values.
var toSIP = map[msnp.Status]string{
	msnp.StatusOnline: "online", msnp.StatusBusy: "busy", msnp.StatusIdle: "idle",
	msnp.StatusBeRightBack: "berightback", msnp.StatusAway: "away", msnp.StatusOnThePhone: "onthephone",
	msnp.StatusOutToLunch: "outtolunch", msnp.StatusHidden: "offline",
}

// fromSIP maps a watched contact's XPIDF substatus to a Messenger status.
var fromSIP = map[string]msnp.Status{
	"online": msnp.StatusOnline, "busy": msnp.StatusBusy, "idle": msnp.StatusIdle,
	"berightback": msnp.StatusBeRightBack, "away": msnp.StatusAway, "onthephone": msnp.StatusOnThePhone,
	"outtolunch": msnp.StatusOutToLunch, "offline": msnp.StatusOffline,
}

// Run keeps the account signed in until ctx ends: sign in, publish the
// presence, watch the contacts, pass the server's events on; when the
// connection ends, sign in again after a backoff. It writes the generated
// krb5.conf first.
func (a *Account) Run(ctx context.Context) error {
	if a.cfg.Krb5Conf != "" {
		if err := a.cfg.UA.Kerberos.WriteKrb5Conf(a.cfg.Krb5Conf); err != nil {
			a.log.Warn("sip: krb5.conf not written", "err", err)
		}
	}
	wait := a.cfg.BackoffMin
	for {
		a.setState(StateSigningIn, nil)
		uc := a.cfg.UA
		a.mu.Lock()
		uc.OnDialog = a.onDialog
		a.mu.Unlock()
		ua, err := sipua.Dial(ctx, uc)
		if ctx.Err() != nil {
			if ua != nil {
				ua.Close()
			}
			a.setState(StateOffline, nil)
			return nil
		}
		if err != nil {
			err = a.explain(err)
			a.setState(StateOffline, err)
			reason := Reason(err)
			a.log.Warn("sip: sign-in failed", "account", a.URI(), "reason", reason, "err", err)
			a.cfg.Publish(client.Event{Type: client.EventError, Account: a.URI(), Reason: reason, Error: err.Error()})
			if permanent(err) {
				wait = a.cfg.BackoffMax
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(wait):
			}
			wait = min(2*wait, a.cfg.BackoffMax)
			continue
		}
		wait = a.cfg.BackoffMin
		a.online(ctx, ua)
		a.pump(ctx, ua)
		ua.Close()
		a.offline()
		if ctx.Err() != nil {
			return nil
		}
		a.cfg.Publish(client.Event{Type: client.EventDisconnected, Account: a.URI(), Reason: "lost"})
	}
}

func (a *Account) setState(s State, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state = s
	if err != nil || s == StateSignedIn {
		a.lastErr = err
	}
	if err != nil {
		close(a.failed)
		a.failed = make(chan struct{})
	}
}

// online publishes our presence and re-subscribes the contacts after a
// sign-in, then reports it.
func (a *Account) online(ctx context.Context, ua *sipua.UA) {
	a.mu.Lock()
	st := a.status
	watched := make([]string, 0, len(a.contacts))
	for uri := range a.contacts {
		watched = append(watched, uri)
	}
	a.mu.Unlock()
	if err := ua.SetPresence(ctx, toSIP[st]); err != nil {
		a.cfg.Publish(client.Event{Type: client.EventError, Account: a.URI(), Reason: Reason(err), Error: "publishing presence: " + err.Error()})
	}
	for _, uri := range watched {
		if err := ua.Subscribe(ctx, uri); err != nil {
			a.cfg.Publish(client.Event{Type: client.EventError, Account: uri, Reason: Reason(err), Error: "watching " + uri + ": " + err.Error()})
		}
	}
	a.mu.Lock()
	a.ua, a.state, a.lastErr = ua, StateSignedIn, nil
	close(a.signedIn)
	a.mu.Unlock()
	tm := ua.LastSignIn()
	a.log.Info("sip: signed in", "account", a.URI(), "server", a.cfg.UA.Server, "enctype", kerberos.EnctypeName(ua.Enctype()),
		"as", tm.AS, "tgs", tm.TGS, "register", tm.Register)
	a.cfg.Publish(client.Event{Type: client.EventSignedIn, Account: a.URI(), Status: string(st)})
}

func (a *Account) offline() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ua, a.state = nil, StateOffline
	a.signedIn = make(chan struct{})
	for uri := range a.contacts {
		a.contacts[uri] = msnp.StatusOffline
	}
}

// pump passes the server's events on until the connection ends.
func (a *Account) pump(ctx context.Context, ua *sipua.UA) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-ua.Events():
			if !ok {
				return
			}
			switch e.Type {
			case "message":
				a.cfg.Publish(client.Event{Type: client.EventMessage, Account: e.From, Text: e.Text})
			case "presence":
				st, ok := fromSIP[e.Status]
				if !ok {
					continue
				}
				a.mu.Lock()
				_, watched := a.contacts[e.From]
				if watched {
					a.contacts[e.From] = st
				}
				a.mu.Unlock()
				if watched {
					a.cfg.Publish(client.Event{Type: client.EventPresence, Account: e.From, Status: string(st)})
				}
			case "error":
				a.cfg.Publish(client.Event{Type: client.EventError, Account: a.URI(), Error: e.Text})
			}
		}
	}
}

func (a *Account) current() (*sipua.UA, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ua == nil {
		if a.lastErr != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotSignedIn, a.lastErr)
		}
		return nil, ErrNotSignedIn
	}
	return a.ua, nil
}

// HandleCalls passes the call requests the server forwards (INVITE, ACK,
// BYE, CANCEL) to f from the next sign-in on; without it they are answered
// 501. The daemon's voice part (msmsgs/voice.SIPCalls) sets it before Run.
func (a *Account) HandleCalls(f func(*sipua.UA, *sipmsg.Message)) {
	a.mu.Lock()
	a.onDialog = f
	a.mu.Unlock()
}

// UA is the signed-in connection, for calls.
func (a *Account) UA() (*sipua.UA, error) { return a.current() }

// WaitSignedIn waits until the account is signed in. It fails at once
// when the last attempt failed for a reason waiting does not cure (the
// password, the principal, the encryption types, the challenge); on
// ctx's end it reports the last failure.
func (a *Account) WaitSignedIn(ctx context.Context) error {
	for {
		a.mu.Lock()
		ch, failed, last := a.signedIn, a.failed, a.lastErr
		a.mu.Unlock()
		if last != nil && permanent(last) {
			return fmt.Errorf("sipaccount: %s not signed in: %w", a.URI(), last)
		}
		select {
		case <-ch:
			return nil
		case <-failed:
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("sipaccount: %s not signed in: %w", a.URI(), last)
			}
			return fmt.Errorf("sipaccount: %s not signed in: %w", a.URI(), ctx.Err())
		}
	}
}

// Info returns the account's state.
func (a *Account) Info() Info {
	a.mu.Lock()
	defer a.mu.Unlock()
	in := Info{Account: a.URI(), Server: a.cfg.UA.Server, Realm: a.cfg.UA.Kerberos.Realm, State: a.state, Status: a.status,
		LastSeq: a.cfg.LastSeq(), Contacts: len(a.contacts)}
	if a.state != StateSignedIn {
		in.Status = msnp.StatusOffline
	}
	if a.lastErr != nil {
		in.Error, in.Reason = a.lastErr.Error(), Reason(a.lastErr)
	}
	if a.ua != nil {
		in.Enctype = kerberos.EnctypeName(a.ua.Enctype())
		tm := a.ua.LastSignIn()
		in.SignIn.AS, in.SignIn.TGS, in.SignIn.Register = tm.AS.String(), tm.TGS.String(), tm.Register.String()
	}
	return in
}

// SetStatus publishes our presence.
func (a *Account) SetStatus(ctx context.Context, st msnp.Status) error {
	doc, ok := toSIP[st]
	if !ok {
		return fmt.Errorf("sipaccount: status %s cannot be set", st)
	}
	ua, err := a.current()
	if err != nil {
		return err
	}
	if err := ua.SetPresence(ctx, doc); err != nil {
		return a.explain(err)
	}
	a.mu.Lock()
	a.status = st
	a.mu.Unlock()
	a.cfg.Publish(client.Event{Type: client.EventStatus, Account: a.URI(), Status: string(st)})
	return nil
}

// Add watches the presence of uri (a SUBSCRIBE; renewed at each sign-in).
func (a *Account) Add(ctx context.Context, uri string) error {
	if err := checkURI(uri); err != nil {
		return err
	}
	ua, err := a.current()
	if err != nil {
		return err
	}
	a.mu.Lock()
	if _, ok := a.contacts[uri]; !ok {
		if len(a.contacts) >= MaxContacts {
			a.mu.Unlock()
			return fmt.Errorf("sipaccount: %s already watches %d contacts (limit %d)", a.URI(), len(a.contacts), MaxContacts)
		}
		a.contacts[uri] = msnp.StatusOffline
		if err := a.saveContacts(); err != nil {
			a.log.Warn("sip: contacts not saved", "err", err)
		}
	}
	a.mu.Unlock()
	if err := ua.Subscribe(ctx, uri); err != nil {
		return a.explain(err)
	}
	return nil
}

// Remove stops watching uri from the next sign-in on, and forgets it.
func (a *Account) Remove(uri string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.contacts[uri]; !ok {
		return fmt.Errorf("sipaccount: %s is not a contact of %s", uri, a.URI())
	}
	delete(a.contacts, uri)
	return a.saveContacts()
}

// Contacts lists the watched contacts, sorted.
func (a *Account) Contacts() []Contact {
	a.mu.Lock()
	defer a.mu.Unlock()
	cs := make([]Contact, 0, len(a.contacts))
	for uri, st := range a.contacts {
		cs = append(cs, Contact{Account: uri, Status: st})
	}
	slices.SortFunc(cs, func(x, y Contact) int {
		if x.Account < y.Account {
			return -1
		}
		if x.Account > y.Account {
			return 1
		}
		return 0
	})
	return cs
}

// Send sends an instant message (SIP MESSAGE) to uri; it returns once the
// server's signed 200 arrived.
func (a *Account) Send(ctx context.Context, uri, text string) error {
	if err := checkURI(uri); err != nil {
		return err
	}
	ua, err := a.current()
	if err != nil {
		return err
	}
	if err := ua.SendMessage(ctx, uri, text); err != nil {
		return a.explain(err)
	}
	return nil
}

// MaxURI bounds a contact URI given on the control socket.
const MaxURI = 256

func checkURI(uri string) error {
	_, d, ok := cutSIP(uri)
	if !ok || d == "" || len(uri) > MaxURI {
		return fmt.Errorf("sipaccount: %q is not a SIP contact: want sip:user@domain", trunc(uri))
	}
	return nil
}

func cutSIP(uri string) (user, domain string, ok bool) {
	if len(uri) < 5 || uri[:4] != "sip:" {
		return "", "", false
	}
	for i := 4; i < len(uri); i++ {
		switch c := uri[i]; {
		case c == '@':
			if i == 4 {
				return "", "", false
			}
			return uri[4:i], uri[i+1:], validHost(uri[i+1:])
		case c <= ' ' || c == '<' || c == '>' || c == '"' || c == ';' || c == 0x7f:
			return "", "", false
		}
	}
	return "", "", false
}

func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c == '<' || c == '>' || c == '"' || c == ';' || c == '@' || c >= 0x7f {
			return false
		}
	}
	return h != ""
}

func trunc(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// Reasons: the kind of a failure, machine-readable, in error events'
// reason and Info.Reason.
const (
	ReasonCredentials = "credentials"       // wrong password or key
	ReasonPrincipal   = "unknown-principal" // the KDC does not know the user (or the service)
	ReasonKDC         = "kdc-unreachable"   // no KDC answered at kerberos.kdc
	ReasonClockSkew   = "clock-skew"        // the device clock is more than 5 minutes off
	ReasonExpired     = "ticket-expired"
	ReasonSignature   = "signature" // a signature did not verify (either side)
	ReasonEnctype     = "enctype"   // no encryption type both sides accept
	ReasonServer      = "server-unreachable"
	ReasonRejected    = "rejected"  // the SIP server refused the request
	ReasonChallenge   = "challenge" // an unusable authentication challenge
	ReasonConfig      = "config"
	ReasonNotSignedIn = "not-signed-in"
	ReasonOther       = "other"
	ReasonBadToken    = "bad-token"
	ReasonReplay      = "replay"
	ReasonProtocol    = "protocol"
)

// Reason classifies err by the sentinel errors it wraps.
func Reason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{kerberos.ErrClockSkew, ReasonClockSkew},
		{kerberos.ErrCredentials, ReasonCredentials},
		{kerberos.ErrUnknownUser, ReasonPrincipal},
		{kerberos.ErrUnreachable, ReasonKDC},
		{kerberos.ErrExpired, ReasonExpired},
		{kerberos.ErrEnctype, ReasonEnctype},
		{kerberos.ErrReplay, ReasonReplay},
		{kerberos.ErrBadToken, ReasonBadToken},
		{kerberos.ErrConfig, ReasonConfig},
		{sipae.ErrSignature, ReasonSignature},
		{sipae.ErrNoSA, ReasonSignature},
		{sipua.ErrChallenge, ReasonChallenge},
		{sipua.ErrRejected, ReasonRejected},
		{sipua.ErrClosed, ReasonServer},
		{sipua.ErrProtocol, ReasonProtocol},
		{ErrNotSignedIn, ReasonNotSignedIn},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return ReasonOther
}

// permanent reports failures that waiting does not cure: they are retried
// at the longest backoff only.
func permanent(err error) bool {
	switch Reason(err) {
	case ReasonCredentials, ReasonPrincipal, ReasonEnctype, ReasonConfig, ReasonChallenge:
		return true
	}
	return false
}

package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/msmsgs/events"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrUndelivered wraps every failure to deliver a sent message.
	ErrUndelivered = errors.New("message not delivered")
	// ErrNotSignedIn is returned by operations that need the NS session.
	ErrNotSignedIn = errors.New("client: not signed in (wait for sign-in, or check the connection)")
	// ErrSignedInElsewhere means the service ended the session because the
	// account signed in at another place (OUT OTH); the client stops.
	ErrSignedInElsewhere = errors.New("client: signed out because this account signed in somewhere else")
	// ErrAuth means sign-in was refused (wrong account or password); the
	// client stops instead of retrying.
	ErrAuth = errors.New("client: sign-in refused")
)

// LoginFunc performs Passport sign-in for account with the TWN challenge
// string and returns the ticket (see feature/wininet/passport).
type LoginFunc func(ctx context.Context, account, password, challenge string) (string, error)

// DialFunc opens a TCP connection (plain, or through a proxy).
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// InviteFunc handles a text/x-msmsgsinvite message received in conv from
// account. It returns false when it does not know the invitation, in which
// case an INVITE is answered with CANCEL (REJECT_NOT_INSTALLED).
type InviteFunc func(conv *Conversation, from string, fields msnp.Header) bool

// Config configures a Client. Server, Account, Password and Login are
// required.
type Config struct {
	Server   string // dispatch server host:port
	Account  string
	Password string
	Login    LoginFunc
	Dial     DialFunc // nil: net.Dialer
	// Status is the status set after sign-in (default NLN).
	Status msnp.Status
	// Client identification sent in CVR.
	ClientVersion string // default "5.0.0544"
	Logger        *slog.Logger
	// Events is the stream the client publishes on (the daemon shares one
	// among its accounts); nil gives the client a stream of its own.
	Events   *events.Stream
	OnInvite InviteFunc

	PingInterval time.Duration // default 45s
	PingTimeout  time.Duration // default 30s
	CallTimeout  time.Duration // a server reply; default 30s
	AckTimeout   time.Duration // a message ACK; default 60s
	BackoffMin   time.Duration // default 1s
	BackoffMax   time.Duration // default 2m
	// MaxConversations bounds open switchboard sessions (default 32).
	MaxConversations int
}

func (c *Config) setDefaults() {
	if c.Status == "" {
		c.Status = msnp.StatusOnline
	}
	if c.ClientVersion == "" {
		c.ClientVersion = "5.0.0544"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		c.Dial = d.DialContext
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PingInterval, 45*time.Second)
	def(&c.PingTimeout, 30*time.Second)
	def(&c.CallTimeout, 30*time.Second)
	def(&c.AckTimeout, 60*time.Second)
	def(&c.BackoffMin, time.Second)
	def(&c.BackoffMax, 2*time.Minute)
	if c.MaxConversations <= 0 {
		c.MaxConversations = 32
	}
}

// Contact is one entry of the contact lists.
type Contact struct {
	Account string      `json:"account"`
	Name    string      `json:"name"`
	Status  msnp.Status `json:"status"`
	Lists   []msnp.List `json:"lists"`
	Groups  []int       `json:"groups,omitempty"`
	mask    int
}

// Group is a contact group from SYN.
type Group struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// State is the sign-in state.
type State string

// Sign-in states.
const (
	StateConnecting State = "connecting"
	StateSignedIn   State = "signed-in"
	StateOffline    State = "disconnected"
	StateStopped    State = "stopped" // fatal error or OUT OTH; see Info.Error
)

// Info is a snapshot of the client's own state.
type Info struct {
	Account  string      `json:"account"`
	Name     string      `json:"name"`
	State    State       `json:"state"`
	Status   msnp.Status `json:"status"`
	Privacy  string      `json:"privacy"` // BLP: AL or BL
	Notify   string      `json:"notify"`  // GTC: A or N
	Error    string      `json:"error,omitempty"`
	LastSeq  uint64      `json:"last_seq"`
	Contacts int         `json:"contacts"`
	Open     int         `json:"conversations"`
}

// Client is an MSNP8 messenger client. Create it with New and start it with
// Run.
type Client struct {
	cfg    Config
	events *events.Stream
	log    *slog.Logger

	mu        sync.Mutex
	state     State
	fatal     error
	lastErr   error // why the last connection attempt or session ended
	ns        *nsConn
	contacts  map[string]*Contact
	groups    map[int]string
	status    msnp.Status // wanted status
	name      string
	blp, gtc  string
	convs     map[string]*Conversation
	convSeq   int
	stateCond chan struct{} // closed and replaced on every state change
	clientIP  string        // ClientIP from the sign-in profile

	ringMu      sync.Mutex
	rings       []msnp.Command // RNGs waiting for a free answerer
	ringWorkers int            // goroutines answering RNGs (at most maxRingDials)
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Server == "" {
		return nil, errors.New("client: no server address (set -server host:port)")
	}
	if cfg.Account == "" || !strings.Contains(cfg.Account, "@") {
		return nil, fmt.Errorf("client: account %q is not an e-mail address (set -account user@domain)", cfg.Account)
	}
	if cfg.Login == nil {
		return nil, errors.New("client: no Passport login function")
	}
	if cfg.Status != "" && !cfg.Status.Settable() {
		return nil, fmt.Errorf("client: status %q cannot be set (use NLN BSY IDL BRB AWY PHN LUN HDN)", cfg.Status)
	}
	cfg.setDefaults()
	if cfg.Events == nil {
		cfg.Events = &events.Stream{}
	}
	return &Client{
		events:    cfg.Events,
		cfg:       cfg,
		log:       cfg.Logger,
		state:     StateOffline,
		contacts:  make(map[string]*Contact),
		groups:    make(map[int]string),
		status:    cfg.Status,
		blp:       msnp.PrivacyAllow,
		gtc:       "A",
		convs:     make(map[string]*Conversation),
		stateCond: make(chan struct{}),
	}, nil
}

// Account returns the signed-in account name.
func (c *Client) Account() string { return c.cfg.Account }

func (c *Client) publish(e Event) { c.events.Publish(e) }

// Publish adds an event from a component built on the client (file
// transfer) to the event stream and returns it with its Seq and Time set.
func (c *Client) Publish(e Event) Event { return c.events.Publish(e) }

// ClientIP returns the address the service saw this client connect from
// (ClientIP of the profile message sent after sign-in), or "" if unknown.
func (c *Client) ClientIP() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientIP
}

// Subscribe returns a subscription to new events with a buffer of buf, the
// recent history (oldest first) and the sequence number of the last event
// published before the subscription started.
func (c *Client) Subscribe(buf int) (*Subscription, []Event, uint64) {
	return c.events.Subscribe(buf)
}

func (c *Client) setState(s State, err error) {
	c.mu.Lock()
	c.state = s
	if s == StateStopped {
		c.fatal = err
	}
	close(c.stateCond)
	c.stateCond = make(chan struct{})
	c.mu.Unlock()
}

// WaitSignedIn waits until the client is signed in, has stopped (returning
// its error), or ctx ends.
func (c *Client) WaitSignedIn(ctx context.Context) error {
	for {
		c.mu.Lock()
		st, fatal, last, ch := c.state, c.fatal, c.lastErr, c.stateCond
		c.mu.Unlock()
		switch st {
		case StateSignedIn:
			return nil
		case StateStopped:
			return fatal
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("client: not signed in yet; last attempt failed: %w", last)
			}
			return fmt.Errorf("client: wait for sign-in: %w", ctx.Err())
		case <-ch:
		}
	}
}

// Info returns a snapshot of the client's own state.
func (c *Client) Info() Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := Info{Account: c.cfg.Account, Name: c.name, State: c.state, Status: c.status,
		Privacy: c.blp, Notify: c.gtc, Contacts: len(c.contacts), Open: len(c.convs)}
	if c.state != StateSignedIn && c.status != "" {
		in.Status = msnp.StatusOffline
	}
	if c.fatal != nil {
		in.Error = c.fatal.Error()
	} else if c.lastErr != nil && c.state != StateSignedIn {
		in.Error = c.lastErr.Error()
	}
	in.LastSeq = c.events.LastSeq()
	return in
}

// Contacts returns the contact lists sorted by account.
func (c *Client) Contacts() []Contact {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Contact, 0, len(c.contacts))
	for _, ct := range c.contacts {
		cp := *ct
		cp.Lists = msnp.ListsFromMask(ct.mask)
		cp.Groups = append([]int(nil), ct.Groups...)
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

// Groups returns the contact groups sorted by id.
func (c *Client) Groups() []Group {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Group, 0, len(c.groups))
	for id, n := range c.groups {
		out = append(out, Group{ID: id, Name: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Run signs in and stays connected until ctx ends or a fatal error (wrong
// password, signed in elsewhere). It reconnects with exponential backoff
// after a lost connection.
func (c *Client) Run(ctx context.Context) error {
	defer c.closeAllConversations()
	backoff := c.cfg.BackoffMin
	for {
		c.setState(StateConnecting, nil)
		start := time.Now()
		err := c.session(ctx)
		if ctx.Err() != nil {
			c.setState(StateOffline, nil)
			return nil
		}
		if errors.Is(err, ErrAuth) || errors.Is(err, ErrSignedInElsewhere) {
			c.publish(Event{Type: EventDisconnected, Reason: reasonOf(err), Error: err.Error()})
			c.setState(StateStopped, err)
			return err
		}
		c.mu.Lock()
		c.lastErr = err
		c.mu.Unlock()
		c.setState(StateOffline, nil)
		c.publish(Event{Type: EventDisconnected, Reason: reasonOf(err), Error: errText(err)})
		if time.Since(start) > 2*c.cfg.BackoffMax {
			backoff = c.cfg.BackoffMin // the session was long-lived: start over
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		c.log.Info("client: connection lost, reconnecting", "after", wait.Round(time.Millisecond), "err", err)
		select {
		case <-ctx.Done():
			c.setState(StateOffline, nil)
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, c.cfg.BackoffMax)
	}
}

// errServiceDown is the OUT SSD reason.
var errServiceDown = errors.New("client: the service is going down for maintenance; will reconnect")

func reasonOf(err error) string {
	switch {
	case errors.Is(err, ErrSignedInElsewhere):
		return "OTH"
	case errors.Is(err, errServiceDown):
		return "SSD"
	case errors.Is(err, ErrAuth):
		return "auth"
	}
	return "lost"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (c *Client) current() (*nsConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ns == nil || c.state != StateSignedIn {
		return nil, ErrNotSignedIn
	}
	return c.ns, nil
}

// SetStatus sets our presence status (CHG).
func (c *Client) SetStatus(ctx context.Context, st msnp.Status) error {
	if !st.Settable() {
		return fmt.Errorf("client: status %q cannot be set (use NLN BSY IDL BRB AWY PHN LUN HDN)", st)
	}
	ns, err := c.current()
	if err != nil {
		return err
	}
	if _, err := ns.call(ctx, "CHG", string(st), "0"); err != nil {
		return fmt.Errorf("client: set status: %w", err)
	}
	return nil
}

// SetName sets our friendly name (REA).
func (c *Client) SetName(ctx context.Context, name string) error {
	enc := msnp.EncodeName(name)
	if name == "" || len(enc) > msnp.MaxEncodedName {
		return fmt.Errorf("client: friendly name must be 1 to %d encoded bytes", msnp.MaxEncodedName)
	}
	ns, err := c.current()
	if err != nil {
		return err
	}
	if _, err := ns.call(ctx, "REA", c.cfg.Account, enc); err != nil {
		return fmt.Errorf("client: set name: %w", err)
	}
	return nil
}

func validAccount(a string) error {
	if a == "" || len(a) > 129 || !strings.Contains(a, "@") || strings.ContainsAny(a, " \t\r\n%") {
		return fmt.Errorf("client: %q is not an account name (use user@domain)", a)
	}
	return nil
}

// AddToList adds account to list l (ADD).
func (c *Client) AddToList(ctx context.Context, l msnp.List, account string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	if l == msnp.ReverseList || !l.Valid() {
		return fmt.Errorf("client: cannot add to list %q (use FL, AL or BL)", l)
	}
	ns, err := c.current()
	if err != nil {
		return err
	}
	if _, err := ns.call(ctx, "ADD", string(l), account, account); err != nil {
		return fmt.Errorf("client: add %s to %s: %w", account, l, err)
	}
	return nil
}

// RemoveFromList removes account from list l (REM).
func (c *Client) RemoveFromList(ctx context.Context, l msnp.List, account string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	if l == msnp.ReverseList || !l.Valid() {
		return fmt.Errorf("client: cannot remove from list %q (use FL, AL or BL)", l)
	}
	ns, err := c.current()
	if err != nil {
		return err
	}
	if _, err := ns.call(ctx, "REM", string(l), account); err != nil {
		return fmt.Errorf("client: remove %s from %s: %w", account, l, err)
	}
	return nil
}

func (c *Client) onList(account string, l msnp.List) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.contacts[account]
	return ct != nil && ct.mask&l.Bit() != 0
}

// Add adds account as a contact: to FL and, unless blocked, AL.
func (c *Client) Add(ctx context.Context, account string) error {
	if !c.onList(account, msnp.ForwardList) {
		if err := c.AddToList(ctx, msnp.ForwardList, account); err != nil {
			return err
		}
	}
	if !c.onList(account, msnp.BlockList) && !c.onList(account, msnp.AllowList) {
		return c.AddToList(ctx, msnp.AllowList, account)
	}
	return nil
}

// Remove removes account from FL (it stays on AL/BL).
func (c *Client) Remove(ctx context.Context, account string) error {
	if !c.onList(account, msnp.ForwardList) {
		return fmt.Errorf("client: %s is not a contact", account)
	}
	return c.RemoveFromList(ctx, msnp.ForwardList, account)
}

// Block moves account from AL to BL: it then sees us offline and cannot
// start conversations with us.
func (c *Client) Block(ctx context.Context, account string) error {
	if c.onList(account, msnp.AllowList) {
		if err := c.RemoveFromList(ctx, msnp.AllowList, account); err != nil {
			return err
		}
	}
	if !c.onList(account, msnp.BlockList) {
		return c.AddToList(ctx, msnp.BlockList, account)
	}
	return nil
}

// Unblock moves account from BL to AL.
func (c *Client) Unblock(ctx context.Context, account string) error {
	if c.onList(account, msnp.BlockList) {
		if err := c.RemoveFromList(ctx, msnp.BlockList, account); err != nil {
			return err
		}
	}
	if !c.onList(account, msnp.AllowList) {
		return c.AddToList(ctx, msnp.AllowList, account)
	}
	return nil
}

// SetPrivacy sets BLP: msnp.PrivacyAllow (anyone not blocked may see us)
// or msnp.PrivacyBlock (only the allow list).
func (c *Client) SetPrivacy(ctx context.Context, mode string) error {
	if mode != msnp.PrivacyAllow && mode != msnp.PrivacyBlock {
		return fmt.Errorf("client: privacy %q (use AL or BL)", mode)
	}
	ns, err := c.current()
	if err != nil {
		return err
	}
	if _, err := ns.call(ctx, "BLP", mode); err != nil {
		return fmt.Errorf("client: set privacy: %w", err)
	}
	return nil
}

// SetNotify sets GTC: "A" (tell us when someone adds us) or "N".
func (c *Client) SetNotify(ctx context.Context, mode string) error {
	if mode != "A" && mode != "N" {
		return fmt.Errorf("client: notify %q (use A or N)", mode)
	}
	ns, err := c.current()
	if err != nil {
		return err
	}
	if _, err := ns.call(ctx, "GTC", mode); err != nil {
		return fmt.Errorf("client: set notify: %w", err)
	}
	return nil
}

// inviteError says why account could not be called into a conversation,
// once and in the user's words.
func inviteError(account string, err error) error {
	var se *msnp.ServerError
	if errors.As(err, &se) {
		code := plainErr{msg: fmt.Sprintf("server error %d", int(se.Code)), err: err}
		switch se.Code {
		case msnp.CodeNotOnline:
			return fmt.Errorf("client: %s is offline or appears offline; send again when they are online (%w)", account, code)
		case msnp.CodeInvalidUser:
			return fmt.Errorf("client: %s cannot be reached: the account does not exist or does not take conversations from you; check the address, or ask them to add you (%w)", account, code)
		}
	}
	return fmt.Errorf("client: cannot start a conversation with %s: %w", account, plain(err))
}

// plainErr shows a protocol error as the sentence of its code while
// errors.Is and errors.As still see the error.
type plainErr struct {
	msg string
	err error
}

func (e plainErr) Error() string { return e.msg }
func (e plainErr) Unwrap() error { return e.err }

// plain is err with a server error code shown once, as its sentence and
// number ("user is not online (217)").
func plain(err error) error {
	var se *msnp.ServerError
	if errors.As(err, &se) && err == error(se) {
		return plainErr{msg: fmt.Sprintf("%s (%d)", se.Code.Text(), int(se.Code)), err: err}
	}
	return err
}

// plainError turns a protocol error into a sentence for the user.
func plainError(err error) string {
	var se *msnp.ServerError
	if errors.As(err, &se) {
		return se.Code.Text()
	}
	return err.Error()
}

// trunc shortens a server-given string for an error message.
func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// connectError says once that connecting to addr failed and why: the
// address and a hint are added only when the dial error does not carry
// them already.
func connectError(what, addr string, err error, hint string) error {
	var op *net.OpError
	if errors.As(err, &op) && err == error(op) && op.Op == "dial" && op.Err != nil {
		err = op.Err // "dial tcp ADDR: " repeats the address
	}
	msg := err.Error()
	s := "client: " + what + " " + addr + ": %w"
	if strings.Contains(msg, addr) {
		s = "client: %w"
	}
	if hint != "" && !strings.HasSuffix(msg, ")") {
		s += " (" + hint + ")"
	}
	return fmt.Errorf(s, err)
}

package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// maxMembers bounds the participants tracked in one conversation.
const maxMembers = 64

// MaxText is the longest text (in bytes) Send accepts: what fits a 1664-byte
// MSG payload with Windows Messenger's headers.
var MaxText = msnp.MaxClientPayload - len(mustBytes(msnp.NewTextMessage("")))

func mustBytes(m *msnp.Message) []byte {
	b, err := m.Bytes()
	if err != nil {
		panic(err)
	}
	return b
}

// ErrTooLong is returned for text longer than MaxText.
var ErrTooLong = errors.New("client: message too long")

// Conversation is one switchboard session.
type Conversation struct {
	c    *Client
	id   string
	conn net.Conn
	w    *msnp.Writer
	done chan struct{}
	err  error // why it ended; valid after done

	mu        sync.Mutex
	trid      int
	pending   map[int]chan msnp.Command
	members   map[string]string // account -> friendly name
	changed   chan struct{}     // closed and replaced when members change
	sessionID string
	closeOnce sync.Once
}

// ConversationInfo describes an open conversation.
type ConversationInfo struct {
	ID      string   `json:"id"`
	Members []string `json:"members"`
}

// ID returns the conversation's local id ("c1", "c2", ...).
func (cv *Conversation) ID() string { return cv.id }

// Members returns the other participants, sorted.
func (cv *Conversation) Members() []string {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	out := make([]string, 0, len(cv.members))
	for m := range cv.members {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Done is closed when the conversation has ended.
func (cv *Conversation) Done() <-chan struct{} { return cv.done }

// LocalAddr returns the local address of the switchboard connection (for
// invitation handlers that advertise an IP address).
func (cv *Conversation) LocalAddr() net.Addr { return cv.conn.LocalAddr() }

// Close leaves the conversation (OUT) and closes the connection.
func (cv *Conversation) Close() {
	_ = cv.w.Write(msnp.Command{Name: "OUT", TrID: msnp.NoTrID})
	cv.close()
}

func (cv *Conversation) close() { cv.closeOnce.Do(func() { cv.conn.Close() }) }

func (cv *Conversation) nextTrID() (int, chan msnp.Command) {
	cv.mu.Lock()
	defer cv.mu.Unlock()
	cv.trid++
	ch := make(chan msnp.Command, 1)
	cv.pending[cv.trid] = ch
	return cv.trid, ch
}

func (cv *Conversation) forget(id int) {
	cv.mu.Lock()
	delete(cv.pending, id)
	cv.mu.Unlock()
}

// call sends a command and waits for its reply (or error code).
func (cv *Conversation) call(ctx context.Context, name string, args ...string) (msnp.Command, error) {
	id, ch := cv.nextTrID()
	defer cv.forget(id)
	if err := cv.w.Write(msnp.Command{Name: name, TrID: id, Args: args}); err != nil {
		cv.close()
		return msnp.Command{}, fmt.Errorf("switchboard %s: %w", name, err)
	}
	t := time.NewTimer(cv.c.cfg.CallTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, r.Err()
	case <-cv.done:
		select {
		case r := <-ch:
			return r, r.Err()
		default:
		}
		if cv.err == nil {
			return msnp.Command{}, fmt.Errorf("switchboard %s: the conversation was closed", name)
		}
		return msnp.Command{}, fmt.Errorf("switchboard %s: the conversation was closed: %w", name, cv.err)
	case <-t.C:
		return msnp.Command{}, fmt.Errorf("switchboard %s: no answer within %v", name, cv.c.cfg.CallTimeout)
	case <-ctx.Done():
		return msnp.Command{}, ctx.Err()
	}
}

// SendMessage sends m with acknowledgement mode mode. With AckFull it
// waits for ACK and returns an error wrapping ErrUndelivered on NAK, on the
// conversation closing first, or after the ACK timeout. With AckNegative it
// waits for a NAK only up to a short grace period; with AckNone it returns
// after writing.
func (cv *Conversation) SendMessage(ctx context.Context, m *msnp.Message, mode msnp.AckMode) error {
	p, err := m.Bytes()
	if err != nil {
		return fmt.Errorf("client: format message: %w", err)
	}
	if len(p) > msnp.MaxClientPayload {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLong, len(p), msnp.MaxClientPayload)
	}
	id, ch := cv.nextTrID()
	defer cv.forget(id)
	if err := cv.w.Write(msnp.Command{Name: "MSG", TrID: id, Args: []string{string(mode)}, Payload: p}); err != nil {
		cv.close()
		return fmt.Errorf("%w: write failed: %w", ErrUndelivered, err)
	}
	if mode != msnp.AckFull {
		return nil
	}
	t := time.NewTimer(cv.c.cfg.AckTimeout)
	defer t.Stop()
	ackResult := func(r msnp.Command) error {
		switch r.Name {
		case "ACK":
			return nil
		case "NAK":
			return fmt.Errorf("%w: the service could not deliver it (NAK)", ErrUndelivered)
		}
		return fmt.Errorf("%w: unexpected answer %s", ErrUndelivered, r.Name)
	}
	select {
	case r := <-ch:
		return ackResult(r)
	case <-cv.done:
		select {
		case r := <-ch: // answered just before the close
			return ackResult(r)
		default:
		}
		return fmt.Errorf("%w: the conversation closed before the message was acknowledged", ErrUndelivered)
	case <-t.C:
		return fmt.Errorf("%w: no acknowledgement within %v", ErrUndelivered, cv.c.cfg.AckTimeout)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUndelivered, ctx.Err())
	}
}

// Invite asks account to join the conversation (CAL) and waits for it.
func (cv *Conversation) Invite(ctx context.Context, account string) error {
	if err := validAccount(account); err != nil {
		return err
	}
	account = strings.ToLower(account)
	if _, err := cv.call(ctx, "CAL", account); err != nil {
		return inviteError(account, err)
	}
	return cv.waitMember(ctx, account)
}

func (cv *Conversation) waitMember(ctx context.Context, account string) error {
	t := time.NewTimer(cv.c.cfg.CallTimeout)
	defer t.Stop()
	for {
		cv.mu.Lock()
		_, ok := cv.members[account]
		ch := cv.changed
		cv.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-cv.done:
			return fmt.Errorf("client: conversation closed before %s joined", account)
		case <-t.C:
			return fmt.Errorf("client: %s did not join within %v", account, cv.c.cfg.CallTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Conversations lists open conversations.
func (c *Client) Conversations() []ConversationInfo {
	c.mu.Lock()
	cs := make([]*Conversation, 0, len(c.convs))
	for _, cv := range c.convs {
		cs = append(cs, cv)
	}
	c.mu.Unlock()
	out := make([]ConversationInfo, 0, len(cs))
	for _, cv := range cs {
		out = append(out, ConversationInfo{ID: cv.id, Members: cv.Members()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Conversation returns the open conversation with the given id, or nil.
func (c *Client) Conversation(id string) *Conversation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.convs[id]
}

// findConversation returns an open one-to-one conversation with account.
func (c *Client) findConversation(account string) *Conversation {
	c.mu.Lock()
	cs := make([]*Conversation, 0, len(c.convs))
	for _, cv := range c.convs {
		cs = append(cs, cv)
	}
	c.mu.Unlock()
	for _, cv := range cs {
		m := cv.Members()
		if len(m) == 1 && m[0] == account {
			select {
			case <-cv.done:
				continue
			default:
				return cv
			}
		}
	}
	return nil
}

// OpenOrReuse returns the open one-to-one conversation with account, or
// opens one (see Open).
func (c *Client) OpenOrReuse(ctx context.Context, account string) (*Conversation, error) {
	account = strings.ToLower(account)
	if cv := c.findConversation(account); cv != nil {
		return cv, nil
	}
	return c.Open(ctx, account)
}

// newConversation connects to a switchboard and registers the session.
func (c *Client) newConversation(ctx context.Context, addr string) (*Conversation, error) {
	c.mu.Lock()
	if len(c.convs) >= c.cfg.MaxConversations {
		c.mu.Unlock()
		return nil, fmt.Errorf("client: %d conversations open already (close one first)", c.cfg.MaxConversations)
	}
	c.convSeq++
	id := "c" + strconv.Itoa(c.convSeq)
	c.mu.Unlock()
	if _, err := netip.ParseAddrPort(addr); err != nil {
		return nil, fmt.Errorf("client: the service gave the switchboard address %q, which is not an IP address and port; msmsgs does not look up host names the service sends (fix the service's XFR and RNG)", trunc(addr))
	}
	dctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	conn, err := c.cfg.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, connectError("connect to switchboard", addr, err, "")
	}
	cv := &Conversation{c: c, id: id, conn: conn, w: msnp.NewWriter(conn), done: make(chan struct{}),
		pending: make(map[int]chan msnp.Command), members: make(map[string]string), changed: make(chan struct{})}
	c.mu.Lock()
	c.convs[id] = cv
	c.mu.Unlock()
	go c.readSB(cv)
	return cv, nil
}

// Open starts a conversation with account: XFR SB, USR, CAL, then waits
// until account joins.
func (c *Client) Open(ctx context.Context, account string) (*Conversation, error) {
	if err := validAccount(account); err != nil {
		return nil, err
	}
	account = strings.ToLower(account)
	ns, err := c.current()
	if err != nil {
		return nil, err
	}
	r, err := ns.call(ctx, "XFR", "SB")
	if err != nil {
		return nil, fmt.Errorf("client: open a conversation with %s: %w", account, plain(err))
	}
	if r.Arg(0) != "SB" || r.Arg(1) == "" || r.Arg(3) == "" {
		return nil, fmt.Errorf("client: unexpected answer to XFR SB: %s", r)
	}
	cv, err := c.newConversation(ctx, r.Arg(1))
	if err != nil {
		return nil, err
	}
	if _, err := cv.call(ctx, "USR", c.cfg.Account, r.Arg(3)); err != nil {
		cv.close()
		return nil, fmt.Errorf("client: open a conversation with %s: switchboard sign-in: %w", account, plain(err))
	}
	if err := cv.Invite(ctx, account); err != nil {
		cv.Close()
		return nil, err
	}
	return cv, nil
}

// Bounds on answering invitations to switchboards (RNG): a storm of RNGs
// is answered a few at a time, and what does not fit in the queue is
// dropped, so neither connections nor memory grow with it.
const (
	maxRingDials  = 4  // RNGs answered at once
	maxRingQueued = 16 // RNGs waiting for an answerer
)

// ring answers an RNG in the background, unless it is malformed, the
// caller is blocked or too many RNGs are waiting already: what is dropped
// is dropped on the reader, before it takes a place in the queue.
func (c *Client) ring(cmd msnp.Command) {
	if len(cmd.Args) < 5 || cmd.Arg(2) != "CKI" {
		c.log.Warn("client: malformed RNG", "line", cmd.String())
		return
	}
	caller := strings.ToLower(cmd.Arg(4))
	if c.onList(caller, msnp.BlockList) {
		c.log.Info("client: invitation from a blocked contact ignored", "from", caller)
		return
	}
	c.ringMu.Lock()
	defer c.ringMu.Unlock()
	if len(c.rings) >= maxRingQueued {
		c.log.Warn("client: too many conversation invitations at once; one ignored", "from", caller)
		return
	}
	c.rings = append(c.rings, cmd)
	if c.ringWorkers < maxRingDials {
		c.ringWorkers++
		go c.ringWorker()
	}
}

// ringWorker answers queued RNGs until the queue is empty.
func (c *Client) ringWorker() {
	for {
		c.ringMu.Lock()
		if len(c.rings) == 0 {
			c.ringWorkers--
			c.rings = nil // give the queue's memory back
			c.ringMu.Unlock()
			return
		}
		cmd := c.rings[0]
		c.rings = c.rings[1:]
		c.ringMu.Unlock()
		c.answerRing(cmd)
	}
}

// answerRing joins a conversation we were invited to:
// RNG session addr CKI cookie caller name (ring checked its shape).
func (c *Client) answerRing(cmd msnp.Command) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.CallTimeout)
	defer cancel()
	cv, err := c.newConversation(ctx, cmd.Arg(1))
	if err != nil {
		c.log.Warn("client: cannot answer conversation", "from", cmd.Arg(4), "err", err)
		c.publish(Event{Type: EventError, Account: strings.ToLower(cmd.Arg(4)), Error: err.Error()})
		return
	}
	cv.sessionID = cmd.Arg(0)
	if _, err := cv.call(ctx, "ANS", c.cfg.Account, cmd.Arg(3), cmd.Arg(0)); err != nil {
		c.log.Warn("client: ANS failed", "from", cmd.Arg(4), "err", err)
		cv.close()
	}
}

// readSB reads a switchboard connection until it ends.
func (c *Client) readSB(cv *Conversation) {
	err := readLoop(cv.conn, msnp.MaxClientPayload, func(cmd msnp.Command) error { return c.handleSB(cv, cmd) })
	cv.err = err
	cv.close()
	c.mu.Lock()
	delete(c.convs, cv.id)
	c.mu.Unlock()
	close(cv.done)
	c.log.Debug("client: conversation ended", "id", cv.id, "err", err)
}

func (cv *Conversation) setMember(acct, encName string, add bool) bool {
	acct = strings.ToLower(acct)
	cv.mu.Lock()
	defer cv.mu.Unlock()
	_, had := cv.members[acct]
	if add {
		if !had && len(cv.members) >= maxMembers {
			return false
		}
		name := acct
		if d, err := msnp.DecodeName(encName); err == nil && d != "" {
			name = d
		}
		cv.members[acct] = name
	} else {
		delete(cv.members, acct)
	}
	close(cv.changed)
	cv.changed = make(chan struct{})
	return add != had
}

func (c *Client) handleSB(cv *Conversation, cmd msnp.Command) error {
	switch cmd.Name {
	case "JOI":
		// JOI account name (may arrive before IRO on some services). Some
		// services also announce our own account: we are no member of our
		// own conversation.
		if strings.EqualFold(cmd.Arg(0), c.cfg.Account) {
			return nil
		}
		if cv.setMember(cmd.Arg(0), cmd.Arg(1), true) {
			c.publish(Event{Type: EventJoined, Account: strings.ToLower(cmd.Arg(0)), Conversation: cv.id})
		}
		return nil
	case "IRO":
		// IRO trid n total account name
		if len(cmd.Args) >= 3 && !strings.EqualFold(cmd.Arg(2), c.cfg.Account) && cv.setMember(cmd.Arg(2), cmd.Arg(3), true) {
			c.publish(Event{Type: EventJoined, Account: strings.ToLower(cmd.Arg(2)), Conversation: cv.id})
		}
		return nil
	case "BYE":
		acct := strings.ToLower(cmd.Arg(0))
		cv.setMember(acct, "", false)
		c.publish(Event{Type: EventLeft, Account: acct, Conversation: cv.id})
		if len(cv.Members()) == 0 {
			return errors.New("client: everyone left the conversation")
		}
		return nil
	case "MSG":
		c.onSBMessage(cv, cmd)
		return nil
	}
	if cmd.TrID > 0 {
		cv.mu.Lock()
		ch, ok := cv.pending[cmd.TrID]
		if ok {
			delete(cv.pending, cmd.TrID)
		}
		cv.mu.Unlock()
		if ok {
			ch <- cmd
			return nil
		}
	}
	if cmd.IsError() {
		c.publish(Event{Type: EventError, Conversation: cv.id, Error: plainError(cmd.Err())})
	}
	return nil
}

// onSBMessage handles MSG account name len.
func (c *Client) onSBMessage(cv *Conversation, cmd msnp.Command) {
	from := strings.ToLower(cmd.Arg(0))
	name, err := msnp.DecodeName(cmd.Arg(1))
	if err != nil || name == "" {
		name = from
	}
	m, err := msnp.ParseMessage(cmd.Payload)
	if err != nil {
		c.log.Warn("client: malformed message ignored", "from", from, "err", err)
		return
	}
	switch m.ContentType() {
	case msnp.TypeText:
		c.publish(Event{Type: EventMessage, Account: from, Name: name, Text: string(m.Body), Conversation: cv.id})
	case msnp.TypeControl:
		if u := m.TypingUser(); u != "" {
			c.publish(Event{Type: EventTyping, Account: strings.ToLower(u), Conversation: cv.id})
		}
	case msnp.TypeInvite:
		fields, err := msnp.ParseHeaderBlock(m.Body)
		if err != nil {
			c.log.Warn("client: malformed invitation ignored", "from", from, "err", err)
			return
		}
		if c.cfg.OnInvite != nil && c.cfg.OnInvite(cv, from, fields) {
			return
		}
		app := fields.Get("Application-Name")
		if app == "" {
			app = fields.Get("Application-GUID")
		}
		c.log.Info("client: unsupported invitation declined", "from", from, "application", app, "command", fields.Get("Invitation-Command"))
		if !strings.EqualFold(fields.Get("Invitation-Command"), "INVITE") {
			return
		}
		cancel, err := msnp.NewInviteMessage(msnp.Header{
			{Key: "Invitation-Command", Value: "CANCEL"},
			{Key: "Invitation-Cookie", Value: fields.Get("Invitation-Cookie")},
			{Key: "Cancel-Code", Value: "REJECT_NOT_INSTALLED"},
		})
		if err == nil {
			// AckNegative returns after the write: safe on the reader goroutine.
			_ = cv.SendMessage(context.Background(), cancel, msnp.AckNegative)
		}
		c.publish(Event{Type: EventInvitation, Account: from, Name: name, Text: app, Conversation: cv.id, Reason: "declined"})
	}
}

// Send sends text to account, in the open one-to-one conversation with it
// or a new one, and waits for the ACK. Any failure wraps ErrUndelivered and
// is also published as an EventUndelivered.
func (c *Client) Send(ctx context.Context, account, text string) error {
	account = strings.ToLower(account)
	err := c.send(ctx, account, "", text)
	if err != nil {
		c.publish(Event{Type: EventUndelivered, Account: account, Text: text, Error: err.Error()})
	}
	return err
}

// SendTo sends text in the conversation with the given id.
func (c *Client) SendTo(ctx context.Context, convID, text string) error {
	err := c.send(ctx, "", convID, text)
	if err != nil {
		c.publish(Event{Type: EventUndelivered, Conversation: convID, Text: text, Error: err.Error()})
	}
	return err
}

func (c *Client) send(ctx context.Context, account, convID, text string) error {
	if len(text) > MaxText {
		return fmt.Errorf("%w: %w: %d bytes, limit %d (split it)", ErrUndelivered, ErrTooLong, len(text), MaxText)
	}
	if text == "" {
		return fmt.Errorf("%w: empty message", ErrUndelivered)
	}
	var cv *Conversation
	if convID != "" {
		if cv = c.Conversation(convID); cv == nil {
			if _, err := c.current(); err != nil {
				return fmt.Errorf("%w: conversation %q ended when the connection to the service was lost; msmsgs signs in again by itself, then send with: msmsgs ctl send EMAIL TEXT", ErrUndelivered, convID)
			}
			return fmt.Errorf("%w: no open conversation %q (list them with: msmsgs ctl conversations)", ErrUndelivered, convID)
		}
	} else if cv = c.findConversation(account); cv == nil {
		var err error
		if cv, err = c.Open(ctx, account); err != nil {
			return fmt.Errorf("%w: %w", ErrUndelivered, err)
		}
	}
	if err := cv.SendMessage(ctx, msnp.NewTextMessage(text), msnp.AckFull); err != nil {
		return err
	}
	c.publish(Event{Type: EventDelivered, Account: account, Conversation: cv.id})
	return nil
}

// Typing tells account we are typing, in the open conversation with it.
// It does nothing when there is none.
func (c *Client) Typing(ctx context.Context, account string) error {
	cv := c.findConversation(strings.ToLower(account))
	if cv == nil {
		return nil
	}
	return cv.SendMessage(ctx, msnp.NewTypingMessage(c.cfg.Account), msnp.AckNone)
}

func (c *Client) closeAllConversations() {
	c.mu.Lock()
	cs := make([]*Conversation, 0, len(c.convs))
	for _, cv := range c.convs {
		cs = append(cs, cv)
	}
	c.mu.Unlock()
	for _, cv := range cs {
		cv.Close()
		<-cv.done
	}
}

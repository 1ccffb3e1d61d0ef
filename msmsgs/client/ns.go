package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// maxXFR bounds dispatch redirects per sign-in.
const maxXFR = 3

// maxContacts bounds the contact lists kept from the server.
const maxContacts = 4096

// nsConn is one connection to a notification (or dispatch) server.
type nsConn struct {
	conn net.Conn
	w    *msnp.Writer
	done chan struct{} // closed when the reader stops
	err  error         // why the reader stopped; valid after done

	mu      sync.Mutex
	trid    int
	pending map[int]chan msnp.Command

	qng chan struct{} // QNG received
	lst chan struct{} // SYN finished (all LST/LSG received)

	timeout time.Duration // reply timeout

	// SYN progress, touched only by the reader goroutine.
	synWant, synGot int
	synActive       bool
	synDone         bool
	closeOnce       sync.Once
	closeErr        error // why we closed it ourselves; set once before the close
	out             error // set by OUT
}

func (n *nsConn) close() { n.closeWith(nil) }

// closeWith closes the connection, recording why (first caller wins).
func (n *nsConn) closeWith(err error) {
	n.closeOnce.Do(func() {
		n.closeErr = err
		n.conn.Close()
	})
}

// send writes a command with a fresh TrID and returns a channel for the reply.
func (n *nsConn) send(name string, payload []byte, args ...string) (int, chan msnp.Command, error) {
	n.mu.Lock()
	n.trid++
	id := n.trid
	ch := make(chan msnp.Command, 1)
	n.pending[id] = ch
	n.mu.Unlock()
	cmd := msnp.Command{Name: name, TrID: id, Args: args, Payload: payload}
	if err := n.w.Write(cmd); err != nil {
		n.forget(id)
		n.close()
		return 0, nil, fmt.Errorf("client: send %s: %w", name, err)
	}
	return id, ch, nil
}

func (n *nsConn) forget(id int) {
	n.mu.Lock()
	delete(n.pending, id)
	n.mu.Unlock()
}

// call sends a command and waits for the reply with the same TrID. Numeric
// error replies are returned as errors (*msnp.ServerError).
func (n *nsConn) callTimeout(ctx context.Context, timeout time.Duration, name string, args ...string) (msnp.Command, error) {
	id, ch, err := n.send(name, nil, args...)
	if err != nil {
		return msnp.Command{}, err
	}
	defer n.forget(id)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, r.Err()
	case <-n.done:
		select {
		case r := <-ch:
			return r, r.Err()
		default:
		}
		return msnp.Command{}, fmt.Errorf("client: %s: connection closed: %w", name, n.err)
	case <-t.C:
		return msnp.Command{}, fmt.Errorf("client: %s: no answer from the server within %v", name, timeout)
	case <-ctx.Done():
		return msnp.Command{}, ctx.Err()
	}
}

func (n *nsConn) deliver(cmd msnp.Command) bool {
	if cmd.TrID <= 0 {
		return false
	}
	n.mu.Lock()
	ch, ok := n.pending[cmd.TrID]
	if ok {
		delete(n.pending, cmd.TrID)
	}
	n.mu.Unlock()
	if ok {
		ch <- cmd
	}
	return ok
}

// call is callTimeout with the connection's reply timeout.
func (n *nsConn) call(ctx context.Context, name string, args ...string) (msnp.Command, error) {
	return n.callTimeout(ctx, n.timeout, name, args...)
}

// dial connects to addr and starts the reader goroutine.
func (c *Client) dial(ctx context.Context, addr string) (*nsConn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	conn, err := c.cfg.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, connectError("connect to", addr, err, "check -server and the network")
	}
	n := &nsConn{conn: conn, w: msnp.NewWriter(conn), done: make(chan struct{}),
		pending: make(map[int]chan msnp.Command), qng: make(chan struct{}, 1), lst: make(chan struct{}),
		timeout: c.cfg.CallTimeout}
	go c.readNS(n)
	return n, nil
}

// session runs one signed-in session: it returns when the connection ends.
func (c *Client) session(ctx context.Context) error {
	n, err := c.signIn(ctx)
	if err != nil {
		return err
	}
	defer func() {
		n.close()
		<-n.done
		c.mu.Lock()
		if c.ns == n {
			c.ns = nil
		}
		c.mu.Unlock()
	}()
	// Keepalive.
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = n.w.Write(msnp.Command{Name: "OUT", TrID: msnp.NoTrID})
			return ctx.Err()
		case <-n.done:
			if n.out != nil {
				return n.out
			}
			return fmt.Errorf("client: connection to the server lost: %w", n.err)
		case <-t.C:
			select {
			case <-n.qng:
			default:
			}
			if err := n.w.Write(msnp.Command{Name: "PNG", TrID: msnp.NoTrID}); err != nil {
				n.close()
				continue
			}
			pt := time.NewTimer(c.cfg.PingTimeout)
			select {
			case <-n.qng:
			case <-n.done:
			case <-ctx.Done():
			case <-pt.C:
				c.log.Warn("client: no QNG answer to PNG; reconnecting", "timeout", c.cfg.PingTimeout)
				n.closeWith(errors.New("client: server stopped answering keepalives (no QNG)"))
			}
			pt.Stop()
		}
	}
}

// signIn connects, follows XFR NS, authenticates, syncs the lists and sets
// the initial status.
func (c *Client) signIn(ctx context.Context) (*nsConn, error) {
	addr := c.cfg.Server
	for hop := 0; ; hop++ {
		n, err := c.dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		next, err := c.handshake(ctx, n)
		if err != nil {
			n.close()
			return nil, err
		}
		if next == "" {
			return n, nil
		}
		n.close()
		if hop >= maxXFR {
			return nil, fmt.Errorf("client: more than %d XFR NS redirects (check -server)", maxXFR)
		}
		if _, err := netip.ParseAddrPort(next); err != nil {
			return nil, fmt.Errorf("client: the service redirected sign-in to %q, which is not an IP address and port; msmsgs does not look up host names the service sends (fix the service's XFR NS)", trunc(next))
		}
		c.log.Debug("client: redirected to notification server", "addr", next)
		addr = next
	}
}

// handshake runs VER/CVR/USR on n. It returns the new address on XFR NS.
func (c *Client) handshake(ctx context.Context, n *nsConn) (string, error) {
	r, err := n.call(ctx, "VER", "MSNP8", "CVR0")
	if err != nil {
		return "", fmt.Errorf("client: VER: %w", err)
	}
	if !contains(r.Args, "MSNP8") {
		return "", fmt.Errorf("client: server does not speak MSNP8 (it offered %v)", r.Args)
	}
	if _, err := n.call(ctx, "CVR", "0x0409", "winnt", "5.1", "i386", "MSMSGS", c.cfg.ClientVersion, "MSMSGS", c.cfg.Account); err != nil {
		return "", fmt.Errorf("client: CVR: %w", err)
	}
	r, err = n.call(ctx, "USR", "TWN", "I", c.cfg.Account)
	if err != nil {
		return "", c.authError("USR", err)
	}
	if r.Name == "XFR" {
		if r.Arg(0) != "NS" || r.Arg(1) == "" {
			return "", fmt.Errorf("client: unexpected redirect %s", r)
		}
		return r.Arg(1), nil
	}
	if r.Name != "USR" || r.Arg(0) != "TWN" || r.Arg(1) != "S" || len(r.Args) < 3 {
		return "", fmt.Errorf("client: unexpected answer to USR: %s", r)
	}
	challenge := strings.Join(r.Args[2:], " ")
	ticket, err := c.cfg.Login(ctx, c.cfg.Account, c.cfg.Password, challenge)
	if err != nil {
		if strings.Contains(err.Error(), "wrong account name or password") {
			return "", authErr{err} // the Passport text says it: no second "sign-in refused"
		}
		return "", fmt.Errorf("client: Passport sign-in: %w", err)
	}
	r, err = n.call(ctx, "USR", "TWN", "S", ticket)
	if err != nil {
		return "", c.authError("USR", err)
	}
	if r.Arg(0) != "OK" {
		return "", fmt.Errorf("client: unexpected answer to USR: %s", r)
	}
	name := c.cfg.Account
	if d, err := msnp.DecodeName(r.Arg(2)); err == nil && d != "" {
		name = d
	}
	c.mu.Lock()
	c.name = name
	c.contacts = make(map[string]*Contact)
	c.groups = make(map[int]string)
	c.mu.Unlock()

	// Contact lists.
	r, err = n.call(ctx, "SYN", "0")
	if err != nil {
		return "", fmt.Errorf("client: SYN: %w", err)
	}
	select {
	case <-n.lst:
	case <-n.done:
		return "", fmt.Errorf("client: connection closed during SYN: %w", n.err)
	case <-time.After(c.cfg.CallTimeout):
		return "", errors.New("client: contact list did not arrive after SYN")
	case <-ctx.Done():
		return "", ctx.Err()
	}

	c.mu.Lock()
	c.ns = n
	want := c.status
	c.mu.Unlock()
	if _, err := n.call(ctx, "CHG", string(want), "0"); err != nil {
		return "", fmt.Errorf("client: set initial status: %w", err)
	}
	return "", nil
}

// authErr is a refused sign-in whose text already says so: it matches
// ErrAuth without repeating it.
type authErr struct{ err error }

func (e authErr) Error() string   { return e.err.Error() }
func (e authErr) Unwrap() []error { return []error{ErrAuth, e.err} }

func (c *Client) authError(step string, err error) error {
	var se *msnp.ServerError
	if errors.As(err, &se) && (se.Code == msnp.CodeAuthFailed || se.Code == msnp.CodeAuthFailed2) {
		return fmt.Errorf("%w: %s: %w (check the account and password)", ErrAuth, step, err)
	}
	return fmt.Errorf("client: %s: %w", step, err)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// readLoop reads commands from conn (payloads up to maxPayload) and hands
// each to handle until reading or handling fails, and returns that error.
func readLoop(conn io.Reader, maxPayload int, handle func(msnp.Command) error) error {
	r := msnp.NewReader(conn)
	r.MaxPayload = maxPayload
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			return err
		}
		if err := handle(cmd); err != nil {
			return err
		}
	}
}

// readNS reads commands from n until it fails.
func (c *Client) readNS(n *nsConn) {
	err := readLoop(n.conn, msnp.MaxServerPayload, func(cmd msnp.Command) error { return c.handleNS(n, cmd) })
	n.close()
	if n.closeErr != nil {
		err = n.closeErr
	}
	n.err = err
	close(n.done)
}

// handleNS processes one command from the notification server.
func (c *Client) handleNS(n *nsConn, cmd msnp.Command) error {
	switch cmd.Name {
	case "SYN":
		if len(cmd.Args) >= 3 {
			nc, e1 := strconv.Atoi(cmd.Args[1])
			_, e2 := strconv.Atoi(cmd.Args[2])
			if e1 != nil || e2 != nil || nc < 0 {
				return fmt.Errorf("client: malformed SYN %s", cmd)
			}
			n.synWant, n.synGot, n.synActive = nc, 0, true
		}
		if !n.synActive || n.synWant == 0 {
			n.finishSYN()
		}
	case "LST":
		if err := c.onLST(cmd); err != nil {
			return err
		}
		if n.synActive {
			n.synGot++
			if n.synGot >= n.synWant {
				n.finishSYN()
			}
		}
		return nil
	case "LSG":
		// MSNP8: LSG id name 0
		if id, err := strconv.Atoi(cmd.Arg(0)); err == nil && len(cmd.Args) >= 2 {
			name, derr := msnp.DecodeName(cmd.Args[1])
			if derr != nil {
				name = cmd.Args[1]
			}
			c.mu.Lock()
			if len(c.groups) < 1024 {
				c.groups[id] = name
			}
			c.mu.Unlock()
		}
		return nil
	case "BLP", "GTC":
		// "BLP AL" in SYN, "BLP 5 ver AL" as a reply.
		if len(cmd.Args) > 0 {
			v := cmd.Args[len(cmd.Args)-1]
			c.mu.Lock()
			if cmd.Name == "BLP" && (v == msnp.PrivacyAllow || v == msnp.PrivacyBlock) {
				c.blp = v
			} else if cmd.Name == "GTC" && (v == "A" || v == "N") {
				c.gtc = v
			}
			c.mu.Unlock()
		}
	case "CHG":
		if st := msnp.Status(cmd.Arg(0)); st.Settable() {
			c.mu.Lock()
			c.status = st
			name := c.name
			first := c.ns == n && c.state != StateSignedIn
			c.mu.Unlock()
			if first {
				// The answer to the initial CHG completes sign-in; publish
				// it here so it precedes the ILN lines that follow.
				c.setState(StateSignedIn, nil)
				c.publish(Event{Type: EventSignedIn, Account: c.cfg.Account, Name: name, Status: string(st)})
			} else {
				c.publish(Event{Type: EventStatus, Account: c.cfg.Account, Name: name, Status: string(st)})
			}
		}
	case "REA":
		// REA trid ver account name
		if strings.EqualFold(cmd.Arg(1), c.cfg.Account) {
			if name, err := msnp.DecodeName(cmd.Arg(2)); err == nil {
				c.mu.Lock()
				c.name = name
				st := c.status
				c.mu.Unlock()
				c.publish(Event{Type: EventStatus, Account: c.cfg.Account, Name: name, Status: string(st)})
			}
		} else {
			c.setPresence(cmd.Arg(1), "", cmd.Arg(2), false)
		}
	case "ILN":
		// ILN trid status account name: a reply to CHG, never for pending.
		c.setPresence(cmd.Arg(1), cmd.Arg(0), cmd.Arg(2), true)
		return nil
	case "NLN":
		c.setPresence(cmd.Arg(1), cmd.Arg(0), cmd.Arg(2), true)
		return nil
	case "FLN":
		c.setPresence(cmd.Arg(0), string(msnp.StatusOffline), "", true)
		return nil
	case "ADD", "REM":
		c.onListChange(cmd)
	case "CHL":
		_, _, err := n.sendQRY(cmd.Arg(0))
		return err
	case "QNG":
		select {
		case n.qng <- struct{}{}:
		default:
		}
		return nil
	case "OUT":
		switch cmd.Arg(0) {
		case "OTH":
			n.out = ErrSignedInElsewhere
		case "SSD":
			n.out = errServiceDown
		default:
			n.out = errors.New("client: the server signed us out")
		}
		return n.out
	case "RNG":
		c.ring(cmd)
		return nil
	case "MSG":
		c.onNSMessage(cmd)
		return nil
	case "NOT", "BPR", "PRP", "IPG":
		return nil // mail notifications, phone numbers: not used
	}
	if n.deliver(cmd) {
		return nil
	}
	if cmd.IsError() {
		err := cmd.Err()
		c.log.Warn("client: server error", "err", err)
		c.publish(Event{Type: EventError, Error: plainError(err)})
	}
	return nil
}

func (n *nsConn) finishSYN() {
	n.synActive = false
	if !n.synDone {
		n.synDone = true
		close(n.lst)
	}
}

// sendQRY answers a challenge without waiting for the reply.
func (n *nsConn) sendQRY(chal string) (int, chan msnp.Command, error) {
	if chal == "" {
		return 0, nil, errors.New("client: CHL without challenge")
	}
	n.mu.Lock()
	n.trid++
	id := n.trid
	n.mu.Unlock()
	if err := n.w.Write(msnp.QRY(id, chal)); err != nil {
		return 0, nil, fmt.Errorf("client: QRY: %w", err)
	}
	return id, nil, nil
}

// onLST stores one MSNP8 LST line: LST account name mask [groups].
func (c *Client) onLST(cmd msnp.Command) error {
	if len(cmd.Args) < 3 {
		return fmt.Errorf("client: malformed LST %s", cmd)
	}
	acct := strings.ToLower(cmd.Args[0])
	name, err := msnp.DecodeName(cmd.Args[1])
	if err != nil {
		name = cmd.Args[1]
	}
	mask, err := msnp.ParseListMask(cmd.Args[2])
	if err != nil {
		return fmt.Errorf("client: LST: %w", err)
	}
	var groups []int
	if len(cmd.Args) > 3 {
		for _, g := range strings.Split(cmd.Args[3], ",") {
			if id, err := strconv.Atoi(g); err == nil && len(groups) < 64 {
				groups = append(groups, id)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.contacts) >= maxContacts {
		return nil
	}
	c.contacts[acct] = &Contact{Account: acct, Name: name, Status: msnp.StatusOffline, mask: mask, Groups: groups}
	return nil
}

// setPresence records a contact's status and/or name.
func (c *Client) setPresence(acct, status, encName string, publish bool) {
	acct = strings.ToLower(acct)
	if acct == "" {
		return
	}
	st := msnp.Status(status)
	if status != "" && !st.Valid() {
		return
	}
	c.mu.Lock()
	ct := c.contacts[acct]
	if ct == nil {
		if len(c.contacts) >= maxContacts {
			c.mu.Unlock()
			return
		}
		ct = &Contact{Account: acct, Name: acct, Status: msnp.StatusOffline}
		c.contacts[acct] = ct
	}
	if encName != "" {
		if n, err := msnp.DecodeName(encName); err == nil {
			ct.Name = n
		}
	}
	changed := status != "" && ct.Status != st
	if status != "" {
		ct.Status = st
	}
	name, cur := ct.Name, ct.Status
	c.mu.Unlock()
	if publish && (changed || encName != "") {
		c.publish(Event{Type: EventPresence, Account: acct, Name: name, Status: string(cur)})
	}
}

// onListChange handles ADD/REM replies and RL notifications:
// ADD trid list ver account name [group]; REM trid list ver account [group].
func (c *Client) onListChange(cmd msnp.Command) {
	l := msnp.List(cmd.Arg(0))
	if !l.Valid() || len(cmd.Args) < 3 {
		return
	}
	acct := strings.ToLower(cmd.Arg(2))
	name := acct
	if cmd.Name == "ADD" {
		if d, err := msnp.DecodeName(cmd.Arg(3)); err == nil && d != "" {
			name = d
		}
	}
	c.mu.Lock()
	ct := c.contacts[acct]
	if ct == nil && cmd.Name == "ADD" && len(c.contacts) < maxContacts {
		ct = &Contact{Account: acct, Name: name, Status: msnp.StatusOffline}
		c.contacts[acct] = ct
	}
	if ct != nil {
		if cmd.Name == "ADD" {
			ct.mask |= l.Bit()
		} else {
			ct.mask &^= l.Bit()
			if ct.mask == 0 {
				delete(c.contacts, acct)
			}
		}
	}
	c.mu.Unlock()
	switch {
	case l == msnp.ReverseList && cmd.Name == "ADD":
		c.publish(Event{Type: EventAddedBy, Account: acct, Name: name})
	case l == msnp.ReverseList:
		c.publish(Event{Type: EventRemovedBy, Account: acct})
	default:
		c.publish(Event{Type: EventContacts, Account: acct, Name: name, Reason: strings.ToLower(cmd.Name) + " " + string(l)})
	}
}

// onNSMessage reads the profile message the server sends after sign-in
// (text/x-msmsgsprofile) for ClientIP; other NS messages are not used.
func (c *Client) onNSMessage(cmd msnp.Command) {
	m, err := msnp.ParseMessage(cmd.Payload)
	if err != nil || m.ContentType() != msnp.TypeProfile {
		return
	}
	ip, err := netip.ParseAddr(strings.TrimSpace(m.Header.Get("ClientIP")))
	if err != nil {
		return
	}
	c.mu.Lock()
	c.clientIP = ip.Unmap().String()
	c.mu.Unlock()
}

package sip

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// Calls, as Live Communications Server routed them: the caller's INVITE
// goes to the server on the caller's signed connection; the server
// forwards it on the callee's registered, signed connection, and the
// callee's 180, 200 (or refusal) back; then ACK, BYE and CANCEL follow the
// same path. The server signs what it sends on each connection with that
// connection's security association and forwards only what the signed-in
// users signed: requests through authorized, the callee's answers through
// verifyResponse. Media (RTP) flows directly between the two endpoints,
// whose addresses the SDP bodies carry.
//
// Bounds: pending INVITEs per caller, per callee (MaxPendingInvites) and
// per source address (MaxPendingPerAddr); established calls per
// connection (MaxCallsPerConn). A hostile INVITE is refused before it is
// forwarded: a body that is not SDP (415), malformed SDP (400), SDP without
// audio (488), a target outside the domain or one that never signed in
// (404), one not signed in now (480), a Call-ID already in use (400).

// dialog is one call the server routes.
type dialog struct {
	id                   string // Call-ID
	caller, callee       *conn
	from, to             string // the caller's and callee's addresses of record
	fromTag, toTag       string
	inv                  *sipmsg.Message // the caller's INVITE as received
	addr                 string          // the caller's IP (the per-address bound)
	established          bool
	cancel               chan struct{}
	cancelOnce           sync.Once
	cseqCaller, cseqBack uint32 // the CSeq numbers of requests the server makes in the dialog
}

func (d *dialog) doCancel() { d.cancelOnce.Do(func() { close(d.cancel) }) }

func (d *dialog) other(c *conn) *conn {
	if c == d.caller {
		return d.callee
	}
	return d.caller
}

// Call bounds' defaults.
const (
	defaultMaxPending     = 4
	defaultMaxPendingAddr = 16
	defaultMaxCallsConn   = 16
	defaultInviteTimeout  = 60 * time.Second
)

func (s *Server) callDefaults() {
	if s.cfg.MaxPendingInvites <= 0 {
		s.cfg.MaxPendingInvites = defaultMaxPending
	}
	if s.cfg.MaxPendingPerAddr <= 0 {
		s.cfg.MaxPendingPerAddr = defaultMaxPendingAddr
	}
	if s.cfg.MaxCallsPerConn <= 0 {
		s.cfg.MaxCallsPerConn = defaultMaxCallsConn
	}
	if s.cfg.InviteTimeout <= 0 {
		s.cfg.InviteTimeout = defaultInviteTimeout
	}
	s.dialogs = map[string]*dialog{}
	s.pendingFrom = map[string]int{}
	s.pendingTo = map[string]int{}
	s.pendingAddr = map[string]int{}
	s.known = map[string]bool{}
}

// Calls reports the calls the server routes: being set up, and established.
func (s *Server) Calls() (pending, established int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.dialogs {
		if d.established {
			established++
		} else {
			pending++
		}
	}
	return pending, established
}

func hostOf(a net.Addr) string {
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

// verifyResponse checks the client's signature on an answer to a request
// the server forwarded to it in a call.
func (c *conn) verifyResponse(m *sipmsg.Message) error {
	c.mu.Lock()
	sa := c.sa
	c.mu.Unlock()
	if sa == nil {
		return sipae.ErrNoSA
	}
	v := m.Get("Authorization")
	if v == "" {
		return fmt.Errorf("%w: the answer is not signed", sipae.ErrSignature)
	}
	scheme, p, err := sipae.ParseHeader(v)
	if err != nil {
		return err
	}
	if !strings.EqualFold(scheme, sipae.Scheme) || p["opaque"] != sa.Opaque {
		return fmt.Errorf("%w: the answer is signed for another security association", sipae.ErrNoSA)
	}
	return sa.VerifyClient(m, p)
}

// await registers a transaction the server starts on c whose signed
// answers (provisional ones too) arrive on the returned channel.
func (c *conn) await(m *sipmsg.Message) (chan *sipmsg.Message, func()) {
	ch := make(chan *sipmsg.Message, 16)
	key := txKey(m)
	c.mu.Lock()
	c.pending[key] = ch
	c.signed[key] = true
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.pending, key)
		delete(c.signed, key)
		c.mu.Unlock()
	}
}

// forward makes the copy of m the server sends on to dst.
func forward(m *sipmsg.Message, dst *conn, uri string) *sipmsg.Message {
	f := &sipmsg.Message{Method: m.Method, URI: uri}
	f.Add("Via", "SIP/2.0/TCP "+dst.nc.LocalAddr().String()+";branch=z9hG4bK"+randHex(6))
	mf := 70
	if v, err := strconv.Atoi(m.Get("Max-Forwards")); err == nil && v > 0 {
		mf = min(v-1, 70)
	}
	f.Add("Max-Forwards", strconv.Itoa(mf))
	for _, h := range []string{"From", "To", "Call-ID", "CSeq", "Contact", "Reason", "Content-Type", "User-Agent"} {
		if v := m.Get(h); v != "" {
			f.Add(h, v)
		}
	}
	f.Body = m.Body
	return f
}

// answerBack sends the caller the answer r (from the callee) to its INVITE.
func (d *dialog) answerBack(r *sipmsg.Message) {
	a := sipmsg.NewResponse(d.inv, r.Code, r.Reason)
	a.Set("To", r.Get("To"))
	for _, h := range []string{"Contact", "Warning", "Content-Type"} {
		if v := r.Get(h); v != "" {
			a.Add(h, v)
		}
	}
	a.Add("Server", "messengerd-sip")
	a.Body = r.Body
	_ = d.caller.send(a, true)
}

// invite routes a new call (c.handle has verified the caller's signature).
func (c *conn) invite(m *sipmsg.Message) {
	s := c.s
	if sipmsg.Param(m.Get("To"), "tag") != "" {
		c.reply(m, 501, "Not Implemented", true, "Warning", warn("re-INVITE (hold, resume) is not routed by this server"))
		return
	}
	c.mu.Lock()
	from := c.aor
	c.mu.Unlock()
	target, bad := checkInvite(m, from, s.cfg.Domain)
	if bad != nil {
		extra := []string{"Warning", warn(bad.warning)}
		if bad.code == 415 {
			extra = append(extra, "Accept", "application/sdp")
		}
		c.reply(m, bad.code, bad.reason, true, extra...)
		return
	}
	id := m.Get("Call-ID")
	d := &dialog{id: id, caller: c, from: from, to: target, fromTag: sipmsg.Param(m.Get("From"), "tag"),
		inv: m, addr: hostOf(c.nc.RemoteAddr()), cancel: make(chan struct{})}
	s.mu.Lock()
	dst := s.regs[target]
	known := s.known[target]
	calls := 0
	for _, x := range s.dialogs {
		if x.caller == c || x.callee == c {
			calls++
		}
	}
	var refuse []string // code, reason, warning
	switch {
	case dst == nil && known:
		refuse = []string{"480", "Temporarily Unavailable", target + " is not signed in"}
	case dst == nil:
		refuse = []string{"404", "Not Found", target + " has not signed in to this server"}
	case s.dialogs[id] != nil:
		refuse = []string{"400", "Bad Request", "Call-ID " + id + " is already in use"}
	case s.pendingFrom[from] >= s.cfg.MaxPendingInvites:
		refuse = []string{"503", "Service Unavailable", fmt.Sprintf("%s already has %d calls ringing (limit %d); wait for them", from, s.pendingFrom[from], s.cfg.MaxPendingInvites)}
	case s.pendingAddr[d.addr] >= s.cfg.MaxPendingPerAddr:
		refuse = []string{"503", "Service Unavailable", fmt.Sprintf("%s already has %d calls ringing (limit %d)", d.addr, s.pendingAddr[d.addr], s.cfg.MaxPendingPerAddr)}
	case s.pendingTo[target] >= s.cfg.MaxPendingInvites:
		refuse = []string{"486", "Busy Here", fmt.Sprintf("%s has %d calls ringing already", target, s.pendingTo[target])}
	case calls >= s.cfg.MaxCallsPerConn:
		refuse = []string{"503", "Service Unavailable", fmt.Sprintf("%d calls on this connection (limit %d)", calls, s.cfg.MaxCallsPerConn)}
	default:
		d.callee = dst
		s.dialogs[id] = d
		s.pendingFrom[from]++
		s.pendingTo[target]++
		s.pendingAddr[d.addr]++
	}
	s.mu.Unlock()
	if refuse != nil {
		code, _ := strconv.Atoi(refuse[0])
		s.cfg.Logf("sip: %s (%s): INVITE %s refused %s: %s", c.nc.RemoteAddr(), from, target, refuse[0], refuse[2])
		extra := []string{"Warning", warn(refuse[2])}
		if code == 503 {
			extra = append(extra, "Retry-After", "5")
		}
		c.reply(m, code, refuse[1], true, extra...)
		return
	}
	s.route(d)
}

// route forwards d's INVITE to the callee and its answers back.
func (s *Server) route(d *dialog) {
	m, c, dst := d.inv, d.caller, d.callee
	settled := false
	defer func() {
		s.mu.Lock()
		for k, mp := range map[string]map[string]int{d.from: s.pendingFrom, d.to: s.pendingTo, d.addr: s.pendingAddr} {
			if mp[k]--; mp[k] <= 0 {
				delete(mp, k)
			}
		}
		if !settled && s.dialogs[d.id] == d {
			delete(s.dialogs, d.id)
		}
		s.mu.Unlock()
	}()
	c.reply(m, 100, "Trying", true)
	f := forward(m, dst, d.to)
	n, _, _ := m.CSeq()
	d.cseqCaller, d.cseqBack = n+1, n+1
	ch, done := dst.await(f)
	defer done()
	if err := dst.send(f, true); err != nil {
		c.reply(m, 480, "Temporarily Unavailable", true, "Warning", warn(d.to+" could not be reached"))
		return
	}
	timeout := time.NewTimer(s.cfg.InviteTimeout)
	defer timeout.Stop()
	cancelled := false
	cancelCh := d.cancel
	callerGone := c.done
	var grace <-chan time.Time
	sendCancel := func() {
		if cancelled {
			return
		}
		cancelled = true
		x := &sipmsg.Message{Method: "CANCEL", URI: d.to}
		x.Add("Via", f.Get("Via"))
		x.Add("Max-Forwards", "70")
		for _, h := range []string{"From", "To", "Call-ID"} {
			x.Add(h, f.Get(h))
		}
		x.Add("CSeq", strconv.FormatUint(uint64(n), 10)+" CANCEL")
		_ = dst.send(x, true)
		grace = time.After(5 * time.Second)
	}
	for {
		select {
		case r := <-ch:
			if r.Code < 200 {
				if r.Code > 100 {
					d.answerBack(r)
				}
				continue
			}
			if r.Code/100 == 2 {
				s.mu.Lock()
				d.toTag = sipmsg.Param(r.Get("To"), "tag")
				if s.dialogs[d.id] == d {
					d.established, settled = true, true
				}
				s.mu.Unlock()
			}
			d.answerBack(r)
			if settled && cancelled {
				// Answered as the CANCEL crossed it: end it (RFC 3261 9.1).
				s.bye(d, d.caller, "SIP;cause=487;text=\"the caller cancelled\"")
			}
			return
		case <-cancelCh:
			sendCancel()
			cancelCh = nil
		case <-callerGone:
			sendCancel()
			callerGone, m = nil, nil
		case <-dst.done:
			if m == nil {
				return
			}
			c.reply(m, 480, "Temporarily Unavailable", true, "Warning", warn(d.to+" signed out while the call was ringing"))
			return
		case <-timeout.C:
			sendCancel()
			if m != nil {
				c.reply(m, 408, "Request Timeout", true, "Warning", warn(fmt.Sprintf("%s did not answer within %s", d.to, s.cfg.InviteTimeout)))
			}
			m = nil
		case <-grace:
			if m != nil {
				c.reply(m, 487, "Request Terminated", true)
			}
			return
		}
	}
}

// inDialog finds the dialog of a request from c, which must be one of
// its parties.
func (s *Server) inDialog(c *conn, m *sipmsg.Message) *dialog {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dialogs[m.Get("Call-ID")]
	if d == nil || (d.caller != c && d.callee != c) {
		return nil
	}
	return d
}

// cancelCall answers the caller's CANCEL and stops the ringing.
func (c *conn) cancelCall(m *sipmsg.Message) {
	d := c.s.inDialog(c, m)
	if d == nil || d.caller != c || d.established {
		c.reply(m, 481, "Call/Transaction Does Not Exist", true)
		return
	}
	c.reply(m, 200, "OK", true)
	d.doCancel()
}

// ack forwards the caller's ACK of the 200 to the callee.
func (c *conn) ack(m *sipmsg.Message) {
	d := c.s.inDialog(c, m)
	if d == nil || d.caller != c || !d.established {
		return // an ACK is never answered
	}
	_ = d.callee.send(forward(m, d.callee, d.to), true)
}

// hangupCall forwards a BYE to the other party and its answer back.
func (c *conn) hangupCall(m *sipmsg.Message) {
	s := c.s
	d := s.inDialog(c, m)
	if d == nil || !d.established {
		c.reply(m, 481, "Call/Transaction Does Not Exist", true)
		return
	}
	s.mu.Lock()
	if s.dialogs[d.id] == d {
		delete(s.dialogs, d.id)
	}
	s.mu.Unlock()
	o := d.other(c)
	uri := d.to
	if o == d.caller {
		uri = d.from
	}
	f := forward(m, o, uri)
	ch, done := o.await(f)
	defer done()
	if err := o.send(f, true); err != nil {
		c.reply(m, 200, "OK", true, "Warning", warn("the other party's connection is gone"))
		return
	}
	select {
	case r := <-ch:
		c.reply(m, r.Code, r.Reason, true)
	case <-o.done:
		c.reply(m, 200, "OK", true)
	case <-time.After(10 * time.Second):
		c.reply(m, 408, "Request Timeout", true, "Warning", warn("the other party did not answer the BYE"))
	}
}

// bye ends an established call the server ends itself: gone's connection
// ended, or a CANCEL crossed the 200. The other party gets a BYE as if
// from gone.
func (s *Server) bye(d *dialog, gone *conn, reason string) {
	s.mu.Lock()
	if s.dialogs[d.id] == d {
		delete(s.dialogs, d.id)
	}
	d.cseqBack++
	seq := d.cseqBack
	s.mu.Unlock()
	o := d.other(gone)
	from, fromTag, to, toTag := d.from, d.fromTag, d.to, d.toTag
	if gone == d.callee {
		from, fromTag, to, toTag = d.to, d.toTag, d.from, d.fromTag
	}
	b := &sipmsg.Message{Method: "BYE", URI: to}
	b.Add("Via", "SIP/2.0/TCP "+o.nc.LocalAddr().String()+";branch=z9hG4bK"+randHex(6))
	b.Add("Max-Forwards", "70")
	b.Add("From", "<"+from+">;tag="+fromTag)
	b.Add("To", "<"+to+">;tag="+toTag)
	b.Add("Call-ID", d.id)
	b.Add("CSeq", strconv.FormatUint(uint64(seq)+1000, 10)+" BYE")
	b.Add("Reason", reason)
	_ = o.send(b, true)
}

// dropCalls ends the calls of a connection that ended.
func (s *Server) dropCalls(c *conn) {
	s.mu.Lock()
	var ds []*dialog
	for _, d := range s.dialogs {
		if d.caller == c || d.callee == c {
			ds = append(ds, d)
		}
	}
	s.mu.Unlock()
	for _, d := range ds {
		if d.established {
			s.bye(d, c, "SIP;cause=480;text=\"the other party's connection to the server ended\"")
		}
		// A ringing call ends in route, which watches both connections.
	}
}

// verifyRequest checks the signature of a request that gets no answer
// (ACK): signed for this connection's SA, From the signed-in user.
func (c *conn) verifyRequest(m *sipmsg.Message) error {
	if err := c.verifyResponse(m); err != nil {
		return err
	}
	c.mu.Lock()
	aor := c.aor
	c.mu.Unlock()
	if uri := sipmsg.AddrURI(m.Get("From")); !strings.EqualFold(uri, aor) {
		return fmt.Errorf("From %s is not the signed-in %s", uri, aor)
	}
	return nil
}

// refusal is why an INVITE is not routed.
type refusal struct {
	code            int
	reason, warning string
}

// maxCallID bounds a Call-ID the server keeps.
const maxCallID = 256

// checkInvite checks a new call's INVITE from the signed-in from before
// it is routed: an SDP offer with audio, a target in domain other than
// the caller, a Call-ID. It returns the target's address of record.
func checkInvite(m *sipmsg.Message, from, domain string) (string, *refusal) {
	if ct := strings.ToLower(strings.TrimSpace(strings.Split(m.Get("Content-Type"), ";")[0])); ct != "application/sdp" {
		return "", &refusal{415, "Unsupported Media Type", "an INVITE carries an SDP offer (application/sdp), not " + strconv.Quote(ct)}
	}
	offer, err := sdp.Parse(m.Body)
	if err != nil {
		return "", &refusal{400, "Bad Request", "malformed SDP offer: " + err.Error()}
	}
	if a := offer.Audio(); a == nil || a.Port == 0 {
		return "", &refusal{488, "Not Acceptable Here", "the SDP offer has no audio stream"}
	}
	target := strings.ToLower(sipmsg.AddrURI(m.URI))
	user, d := userOf(target)
	switch {
	case !strings.HasPrefix(target, "sip:") || user == "" || d != strings.ToLower(domain) || strings.ContainsAny(target, " <>\"\r\n"):
		return "", &refusal{404, "Not Found", trunc(target) + " is not an address in " + domain}
	case target == from:
		return "", &refusal{486, "Busy Here", "you cannot call yourself"}
	}
	if id := m.Get("Call-ID"); id == "" || len(id) > maxCallID {
		return "", &refusal{400, "Bad Request", "the INVITE has no usable Call-ID"}
	}
	return target, nil
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

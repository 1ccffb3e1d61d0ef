package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// switchboard is one conversation session.
type switchboard struct {
	id      uint32
	mu      sync.Mutex
	members []*member
	closed  bool
}

// member is one participant's switchboard connection.
type member struct {
	c     *conn
	email string
	name  string
	enc   string // URL-encoded name
}

func (s *Server) currentName(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[email]; u != nil {
		return u.name
	}
	return email
}

// serveSB answers a switchboard connection's USR or ANS; true means the
// session goes on (sbLoop) and ends the connection itself.
func (s *Server) serveSB(c *conn, first msnp.Command) bool {
	email, code := checkAccountName(first.Arg(0))
	if code != 0 {
		c.sendErr(msnp.CodeAuthFailed, first.TrID)
		return false
	}
	ck := s.takeCookie(first.Arg(1), email)
	m := &member{c: c, email: email, name: s.currentName(email)}
	m.enc = msnp.EncodeName(m.name)
	var sb *switchboard
	switch first.Name {
	case "USR":
		if ck == nil || ck.session != 0 {
			c.sendErr(msnp.CodeAuthFailed, first.TrID)
			return false
		}
		sb = &switchboard{id: s.nextSB.Add(1), members: []*member{m}}
		s.mu.Lock()
		s.sbs[sb.id] = sb
		s.mu.Unlock()
		s.signedIn(c)
		if c.send(msnp.New("USR", first.TrID, "OK", email, msnp.EncodeName(m.name))) != nil {
			s.leave(sb, m)
			return false
		}
	case "ANS":
		id, err := strconv.ParseUint(first.Arg(2), 10, 32)
		if ck == nil || err != nil || ck.session != uint32(id) {
			c.sendErr(msnp.CodeAuthFailed, first.TrID)
			return false
		}
		s.mu.Lock()
		sb = s.sbs[uint32(id)]
		s.mu.Unlock()
		if sb == nil || !s.join(sb, m, first.TrID) {
			c.sendErr(msnp.CodeSwitchboardFailed, first.TrID)
			return false
		}
		s.signedIn(c)
	}
	c.sb, c.sbm = sb, m
	c.touch(time.Now())
	s.sbLoop(c)
	return true
}

// sbLoop serves a joined switchboard connection until it ends, or until it
// is parked: busy connections keep their goroutine, waiting in Read, and
// housekeeping asks those idle for a tick to park (requestPark), so that a
// held but silent conversation holds no goroutine stack. A parked
// connection runs sbLoop again on a fresh goroutine when input comes.
func (s *Server) sbLoop(c *conn) {
	sb, m := c.sb, c.sbm
	for {
		c.r.Release()
		if c.r.Buffered() == 0 {
			c.armRead(s.cfg.IdleTimeout)
			switch err := c.waitInput(); {
			case err == errParkNow:
				if s.park(c) {
					return
				}
			case err != nil:
				s.logReadErr(c, err)
				s.endSB(c)
				return
			}
		}
		cmd, err := c.read(s.cfg.IdleTimeout)
		if err != nil {
			s.logReadErr(c, err)
			break
		}
		c.touch(time.Now())
		ok := true
		switch cmd.Name {
		case "MSG":
			ok = s.sbMessage(sb, m, cmd)
		case "CAL":
			s.call(sb, m, cmd)
		case "OUT":
			ok = false
		default:
			if cmd.TrID == msnp.NoTrID {
				ok = false
				break
			}
			c.sendErr(msnp.CodeSyntax, cmd.TrID)
		}
		if !ok {
			break
		}
	}
	s.endSB(c)
}

// endSB ends a switchboard connection's session (its goroutine held its
// place in s.wg from accept on).
func (s *Server) endSB(c *conn) {
	s.leave(c.sb, c.sbm)
	s.untrack(c)
	s.wg.Done()
}

// join adds m to sb, sending IRO and ANS OK to m and JOI to the others.
func (s *Server) join(sb *switchboard, m *member, trID int) bool {
	sb.mu.Lock()
	if sb.closed || len(sb.members) >= s.cfg.MaxSBMembers {
		sb.mu.Unlock()
		return false
	}
	others := append([]*member(nil), sb.members...)
	sb.members = append(sb.members, m)
	sb.mu.Unlock()
	n := strconv.Itoa(len(others))
	for i, o := range others {
		m.c.send(msnp.New("IRO", trID, strconv.Itoa(i+1), n, o.email, msnp.EncodeName(o.name)))
	}
	m.c.send(msnp.New("ANS", trID, "OK"))
	joi, _ := msnp.AppendCommand(nil, msnp.New("JOI", msnp.NoTrID, m.email, msnp.EncodeName(m.name)))
	for _, o := range others {
		o.c.w.WriteRaw(joi)
	}
	return true
}

// leave removes m from sb and tells the others BYE.
func (s *Server) leave(sb *switchboard, m *member) {
	sb.mu.Lock()
	for i, x := range sb.members {
		if x == m {
			sb.members = append(sb.members[:i], sb.members[i+1:]...)
			break
		}
	}
	others := append([]*member(nil), sb.members...)
	empty := len(sb.members) == 0
	if empty {
		sb.closed = true
	}
	sb.mu.Unlock()
	if empty {
		s.mu.Lock()
		delete(s.sbs, sb.id)
		s.mu.Unlock()
	}
	bye, _ := msnp.AppendCommand(nil, msnp.New("BYE", msnp.NoTrID, m.email))
	for _, o := range others {
		o.c.w.WriteRaw(bye)
	}
}

// relayBufs hold the relayed MSG while it is written to the other
// participants (the writes are synchronous), so relaying allocates nothing.
var relayBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// sbMessage relays a MSG to the other participants and acknowledges it per
// the ack mode: U none, N NAK on failure, A and D ACK or NAK.
func (s *Server) sbMessage(sb *switchboard, m *member, cmd msnp.Command) bool {
	mode := msnp.AckMode(cmd.Arg(0))
	if !mode.Valid() || len(cmd.Args) != 1 {
		m.c.sendErr(msnp.CodeSyntax, max(cmd.TrID, 0))
		return cmd.TrID != msnp.NoTrID
	}
	bp := relayBufs.Get().(*[]byte)
	defer relayBufs.Put(bp)
	out, err := msnp.AppendCommand((*bp)[:0], msnp.Command{Name: "MSG", TrID: msnp.NoTrID,
		Args: []string{m.email, m.enc}, Payload: cmd.Payload})
	*bp = out[:0]
	if err != nil {
		m.c.sendErr(msnp.CodeSyntax, cmd.TrID)
		return true
	}
	var buf [8]*member
	others := buf[:0]
	sb.mu.Lock()
	for _, o := range sb.members {
		if o != m {
			others = append(others, o)
		}
	}
	sb.mu.Unlock()
	delivered := 0
	for _, o := range others {
		if o.c.w.WriteRaw(out) == nil {
			delivered++
		} else {
			o.c.Close()
		}
	}
	ok := delivered > 0
	switch {
	case (mode == msnp.AckFull || mode == msnp.AckData) && ok:
		m.c.send(msnp.New("ACK", cmd.TrID))
	case mode != msnp.AckNone && !ok:
		m.c.send(msnp.New("NAK", cmd.TrID))
	}
	return true
}

// call invites a contact into sb with RNG through their notification
// connection. Privacy: a callee that blocks the caller, or appears offline,
// is reported as not online (217).
func (s *Server) call(sb *switchboard, m *member, cmd msnp.Command) {
	email, code := checkAccountName(cmd.Arg(0))
	if code != 0 {
		m.c.sendErr(msnp.CodeInvalidUsername, cmd.TrID)
		return
	}
	sb.mu.Lock()
	in := false
	for _, x := range sb.members {
		in = in || x.email == email
	}
	full := len(sb.members) >= s.cfg.MaxSBMembers
	sb.mu.Unlock()
	if in {
		m.c.sendErr(msnp.CodeAlreadyThere, cmd.TrID)
		return
	}
	if full {
		m.c.sendErr(msnp.CodeSwitchboardFailed, cmd.TrID)
		return
	}
	s.mu.Lock()
	callee := s.users[email]
	if callee == nil || seenBy(callee, m.email) == msnp.StatusOffline || callee.lists[m.email] != nil && callee.lists[m.email].Lists&store.BL != 0 {
		s.mu.Unlock()
		m.c.sendErr(msnp.CodeNotOnline, cmd.TrID)
		return
	}
	ck, code := s.issueCookie(email, sb.id, m.email, m.c, msnp.CodeCallingTooRapidly)
	s.mu.Unlock()
	if code != 0 {
		m.c.sendErr(code, cmd.TrID)
		return
	}
	id := strconv.FormatUint(uint64(sb.id), 10)
	if callee.c.send(msnp.New("RNG", msnp.NoTrID, id, s.sbAddr(callee.c), "CKI", ck, m.email, msnp.EncodeName(m.name))) != nil {
		m.c.sendErr(msnp.CodeNotOnline, cmd.TrID)
		return
	}
	m.c.send(msnp.New("CAL", cmd.TrID, "RINGING", id))
}

package server

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// An idle signed-in notification session is parked: its goroutine ends and
// the poller (epoll on Linux) watches the socket; input, EOF or Close start
// a fresh goroutine that goes on with the session. Ten thousand idle
// clients then hold ten thousand sockets and small structs, not ten
// thousand goroutine stacks. The idle timeout of a parked session is
// enforced by housekeeping from conn.active, not by a per-connection timer.
// Switchboard connections park only once silent for a housekeeping tick
// (sbLoop, requestPark): a busy conversation pays nothing per message.
// Where there is no poller, the session's goroutine waits in Read.

// runSession serves a signed-in notification session until it parks or
// ends. woken is set when it is resumed from parking: it then reads before
// parking again.
func (s *Server) runSession(u *user, woken bool) {
	c := u.c
	for {
		c.r.Release()
		if c.r.Buffered() == 0 {
			c.u = u
			if !woken && s.park(c) {
				return
			}
			woken = false
			c.armRead(s.cfg.IdleTimeout)
			if err := c.r.Wait(); err != nil {
				s.logReadErr(c, err)
				break
			}
		}
		var ok bool
		offload(func() { ok = s.nextCommand(u) })
		if !ok {
			break
		}
	}
	s.signOut(u)
	s.untrack(c)
	s.wg.Done()
}

// park hands c to the poller (c.u or c.sb and c.sbm say what to resume);
// false means the caller keeps reading.
func (s *Server) park(c *conn) bool {
	s.pollOnce.Do(func() {
		p, err := newPoller()
		if err != nil {
			s.cfg.Log.Debug("idle sessions keep a goroutine", "err", err)
			return
		}
		s.poll = p
	})
	if s.poll == nil {
		return false
	}
	if c.raw == nil {
		sc, ok := c.Conn.(syscall.Conn)
		if !ok {
			return false
		}
		raw, err := sc.SyscallConn()
		if err != nil {
			return false
		}
		c.raw = raw
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.closed {
		return false
	}
	if !s.poll.park(c) {
		return false
	}
	c.parked = true
	return true
}

// unpark resumes a parked session on a new goroutine (poller: input came).
func (c *conn) unpark() {
	c.pmu.Lock()
	if !c.parked {
		c.pmu.Unlock()
		return
	}
	c.parked = false
	c.pmu.Unlock()
	c.srv.poll.forget(c)
	go c.resume()
}

// errParkNow is waitInput's answer when housekeeping asked the connection
// to park while it waited.
var errParkNow = errors.New("park now")

// waitInput waits until the connection has input (a switchboard session
// between commands). When housekeeping interrupts the wait (requestPark),
// it returns errParkNow with a fresh, empty command reader: the old one
// holds the deadline error, and no input was lost, since none was
// buffered.
func (c *conn) waitInput() error {
	c.pmu.Lock()
	c.waiting = true
	c.pmu.Unlock()
	err := c.r.Wait()
	c.pmu.Lock()
	c.waiting = false
	req := c.parkReq
	c.parkReq = false
	c.pmu.Unlock()
	if !req {
		return err
	}
	c.rdl = time.Time{} // the next read sets the deadline afresh
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && c.r.Buffered() == 0 {
		c.r = msnp.NewReader(c.Conn)
		return errParkNow
	}
	return err
}

// requestPark interrupts the input wait of an idle switchboard session so
// that it parks (housekeeping, for sessions without a command for a tick).
// It reports whether it asked.
func (c *conn) requestPark() bool {
	c.pmu.Lock()
	defer c.pmu.Unlock()
	if c.waiting && !c.parkReq && !c.closed && !c.parked {
		c.parkReq = true
		c.Conn.SetReadDeadline(time.Unix(1, 0))
		return true
	}
	return false
}

// idleSwitchboards returns the switchboard connections silent since before
// idle (to close) and those silent since before park (to park). Caller
// holds s.mu.
func (s *Server) idleSwitchboards(idle, park time.Time) (closeIdle, toPark []*conn) {
	for _, sb := range s.sbs {
		sb.mu.Lock()
		for _, m := range sb.members {
			switch c := m.c; {
			case c.idleSince(idle):
				closeIdle = append(closeIdle, c)
			case c.idleSince(park):
				toPark = append(toPark, c)
			}
		}
		sb.mu.Unlock()
	}
	return closeIdle, toPark
}

// touch records that a command arrived (for the idle timeout).
func (c *conn) touch(now time.Time) { c.active.Store(now.UnixNano()) }

// idleSince reports whether no command arrived since before t.
func (c *conn) idleSince(t time.Time) bool { return c.active.Load() < t.UnixNano() }

package server

import (
	"syscall"
	"time"
)

// An idle signed-in notification session is parked: its goroutine ends and
// the poller (epoll on Linux) watches the socket; input, EOF or Close start
// a fresh goroutine that goes on with the session. Ten thousand idle
// clients then hold ten thousand sockets and small structs, not ten
// thousand goroutine stacks. The idle timeout of a parked session is
// enforced by housekeeping from conn.active, not by a per-connection timer.
// Where there is no poller, the session's goroutine waits in Read.

// runSession serves a signed-in notification session until it parks or
// ends. woken is set when it is resumed from parking: it then reads before
// parking again.
func (s *Server) runSession(u *user, woken bool) {
	c := u.c
	for {
		c.r.Release()
		if c.r.Buffered() == 0 {
			if !woken && s.park(c, u) {
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

// park hands c to the poller; false means the caller keeps reading.
func (s *Server) park(c *conn, u *user) bool {
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
	c.u = u
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
	go c.srv.runSession(c.u, true)
}

// touch records that a command arrived (for the idle timeout).
func (c *conn) touch(now time.Time) { c.active.Store(now.UnixNano()) }

// idleSince reports whether no command arrived since before t.
func (c *conn) idleSince(t time.Time) bool { return c.active.Load() < t.UnixNano() }

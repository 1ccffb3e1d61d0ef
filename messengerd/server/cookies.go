package server

import (
	"time"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// sbCookie authorizes one switchboard USR (XFR SB) or ANS (RNG).
type sbCookie struct {
	email   string // who may use it
	session uint32 // 0 for a new session (XFR SB)
	expires time.Time
	by      string // account that asked for it (XFR SB or CAL)
	conn    *conn  // connection that asked for it
}

// Switchboard cookies are a shared pool (4 x MaxConns). One account must
// not be able to fill it: an account holds at most MaxSBCookiesPerUser
// outstanding cookies, one connection at most MaxSBMembers (an honest client
// asks for one XFR SB per conversation it opens and one RNG per contact it
// invites, and each is used within seconds), and once the pool is half full
// every account is held to 2 more, which leaves the other half for everyone
// else. Unused cookies expire after SBCookieTTL.

// issueCookie records a fresh cookie for email, asked for by account by on
// connection c, and returns it; or returns the error code to send. Caller
// holds s.mu.
func (s *Server) issueCookie(email string, session uint32, by string, c *conn, tooMany msnp.Code) (string, msnp.Code) {
	pool := 4 * s.cfg.MaxConns
	if len(s.cookie) >= pool {
		return "", msnp.CodeServerBusy
	}
	perUser := s.cfg.MaxSBCookiesPerUser
	if len(s.cookie) >= pool/2 {
		perUser = min(perUser, 2)
	}
	if s.cookiesBy[by] >= perUser || c.cookies >= s.cfg.MaxSBMembers {
		return "", tooMany
	}
	ck := newCookie()
	s.cookie[ck] = &sbCookie{email: email, session: session, expires: time.Now().Add(s.cfg.SBCookieTTL), by: by, conn: c}
	s.cookiesBy[by]++
	c.cookies++
	return ck, 0
}

// dropCookie removes cookie k. Caller holds s.mu.
func (s *Server) dropCookie(k string) {
	ck := s.cookie[k]
	if ck == nil {
		return
	}
	delete(s.cookie, k)
	ck.conn.cookies--
	if s.cookiesBy[ck.by]--; s.cookiesBy[ck.by] <= 0 {
		delete(s.cookiesBy, ck.by)
	}
}

// takeCookie removes and returns a valid cookie for email.
func (s *Server) takeCookie(k, email string) *sbCookie {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cookie[k]
	if c == nil || c.email != email || time.Now().After(c.expires) {
		return nil
	}
	s.dropCookie(k)
	return c
}

// expireCookies drops cookies past their time. Caller holds s.mu.
func (s *Server) expireCookies(now time.Time) {
	for k, ck := range s.cookie {
		if now.After(ck.expires) {
			s.dropCookie(k)
		}
	}
}

// Package server is messengerd's MSNP8 service: dispatch, notification and
// switchboard on one listener (the first command tells them apart: VER opens
// a dispatch/notification session, USR or ANS a switchboard session), with
// presence fan-out, server-side privacy (BLP, AL, BL), CHL/QRY challenges and
// contact lists kept in the store.
package server

import (
	"github.com/oemkit/messenger/internal/clientaddr"

	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oemkit/messenger/messengerd/passport"
	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Config configures a Server. Zero durations and limits take the defaults.
type Config struct {
	Store   *store.Store
	Tickets *passport.Tickets
	Log     *slog.Logger

	// NSAddr, when set, is the notification server address that connections
	// accepted by ServeDispatch are sent to with XFR NS.
	NSAddr string
	// SBHost, when set, is the host put in XFR SB and RNG; by default the
	// local address of the client's notification connection is used.
	SBHost string

	AuthTimeout       time.Duration // sign-in (or switchboard USR/ANS) must finish within this (20 s)
	IdleTimeout       time.Duration // connection closed after this long without a command (5 min)
	WriteTimeout      time.Duration // one write to a client (10 s)
	ChallengeInterval time.Duration // CHL sent this often after sign-in (10 min)
	ChallengeTimeout  time.Duration // QRY must come within this (60 s)
	MaxConns          int           // concurrent connections (20000)
	// MaxPendingPerAddr bounds the connections from one address (IPv4, or
	// IPv6 /64) that have not signed in yet (64): one host cannot hold
	// every slot of MaxConns with idle connections.
	MaxPendingPerAddr int
	MaxSBMembers      int // participants in one switchboard (16)
	MaxListEntries    int // entries in one contact list (600)
	// SBCookieTTL is how long a switchboard cookie (XFR SB, RNG) stays
	// valid (30 s); clients use theirs within a second or two.
	SBCookieTTL time.Duration
	// MaxSBCookiesPerUser bounds the switchboard cookies one account holds
	// unused at a time (32); see cookies.go.
	MaxSBCookiesPerUser int
}

func (c *Config) defaults() {
	set := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	set(&c.AuthTimeout, 20*time.Second)
	set(&c.IdleTimeout, 5*time.Minute)
	set(&c.WriteTimeout, 10*time.Second)
	set(&c.ChallengeInterval, 10*time.Minute)
	set(&c.ChallengeTimeout, time.Minute)
	if c.MaxConns <= 0 {
		c.MaxConns = 20000
	}
	if c.MaxPendingPerAddr <= 0 {
		c.MaxPendingPerAddr = 64
	}
	if c.MaxSBMembers <= 0 {
		c.MaxSBMembers = 16
	}
	if c.MaxListEntries <= 0 {
		c.MaxListEntries = 600
	}
	set(&c.SBCookieTTL, 30*time.Second)
	if c.MaxSBCookiesPerUser <= 0 {
		c.MaxSBCookiesPerUser = 32
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server is a running MSNP service.
type Server struct {
	cfg Config

	listMu sync.Mutex // serializes contact-list changes and sign-ins
	mu     sync.Mutex // guards the maps below and every user's in-memory state
	users  map[string]*user
	sbs    map[uint32]*switchboard
	cookie map[string]*sbCookie
	// cookiesBy counts outstanding cookies per account that asked for them.
	cookiesBy map[string]int
	conns     map[net.Conn]string // value: the address key while not signed in, else ""
	pending   map[string]int      // connections not signed in, per address key
	lns       map[net.Listener]struct{}
	closed    bool

	refusing chan struct{} // bounds the connections being refused at a time (256)

	pollOnce sync.Once
	poll     *poller // nil: idle sessions keep a goroutine (see park.go)

	release releaser // returns the memory of a sign-in burst (release.go)

	nconns atomic.Int64
	nextSB atomic.Uint32
	wg     sync.WaitGroup
	stop   chan struct{}
	once   sync.Once
}

// New returns a server; call Serve for each listener and Shutdown to stop.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Tickets == nil {
		return nil, errors.New("server: config needs a store and a ticket issuer")
	}
	cfg.defaults()
	s := &Server{
		cfg:       cfg,
		users:     map[string]*user{},
		sbs:       map[uint32]*switchboard{},
		cookie:    map[string]*sbCookie{},
		cookiesBy: map[string]int{},
		conns:     map[net.Conn]string{},
		pending:   map[string]int{},
		lns:       map[net.Listener]struct{}{},
		stop:      make(chan struct{}),
		refusing:  make(chan struct{}, 256),
	}
	var b [4]byte
	rand.Read(b[:])
	s.nextSB.Store(binary.BigEndian.Uint32(b[:]) >> 8)
	s.wg.Add(1)
	go s.housekeeping()
	return s, nil
}

// Serve accepts connections on l until Shutdown. It returns nil after
// Shutdown.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, false) }

// ServeDispatch serves l as a dispatch server only: USR TWN I is answered
// with XFR NS to Config.NSAddr. Switchboard connections are served as usual.
func (s *Server) ServeDispatch(l net.Listener) error {
	if s.cfg.NSAddr == "" {
		return errors.New("server: ServeDispatch needs Config.NSAddr")
	}
	return s.serve(l, true)
}

func (s *Server) serve(l net.Listener, dispatch bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("server: serve after shutdown")
	}
	s.lns[l] = struct{}{}
	s.mu.Unlock()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			select {
			case <-s.stop:
				return nil
			default:
			}
			if isTemporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("server: accept: %w", err)
		}
		delay = 0
		if s.nconns.Load() >= int64(s.cfg.MaxConns) {
			go s.refuse(c)
			continue
		}
		cc := s.newConn(c)
		switch s.track(cc) {
		case trackClosed:
			c.Close()
			continue
		case trackTooMany:
			go s.refuse(c)
			continue
		}
		s.wg.Add(1)
		go func() {
			u, kept := s.handle(cc, dispatch)
			if kept {
				return // a switchboard session, ended by sbLoop
			}
			if u == nil {
				s.untrack(cc)
				s.wg.Done()
				return
			}
			// Signed in (serveNS stopped counting it as pending): the
			// session goes on in a fresh goroutine whose stack holds only
			// the read loop, not the sign-in call chain. It parks the
			// session (no goroutine at all) while it is idle; the session
			// holds its place in s.wg until it ends.
			go s.runSession(u, false)
		}()
	}
}

// refuse answers a connection the server cannot take with 600 (server
// busy) and closes it once the client has read that: the client's first
// command is read and dropped for up to a second, so that closing does not
// reset the connection before the reply arrives.
func (s *Server) refuse(c net.Conn) {
	defer c.Close()
	select {
	case s.refusing <- struct{}{}:
		defer func() { <-s.refusing }()
	default:
		return // many at once: close at once
	}
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("600 0\r\n")); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	io.Copy(io.Discard, io.LimitReader(c, 4096))
}

// isTemporary reports accept errors worth retrying (EMFILE, ECONNABORTED).
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

const (
	trackOK = iota
	trackClosed
	trackTooMany // MaxPendingPerAddr reached
)

func (s *Server) track(c net.Conn) int {
	key := clientaddr.Of(c.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return trackClosed
	}
	if s.pending[key] >= s.cfg.MaxPendingPerAddr {
		return trackTooMany
	}
	s.pending[key]++
	s.conns[c] = key
	s.nconns.Add(1)
	return trackOK
}

// signedIn stops counting c against its address's MaxPendingPerAddr: its
// notification session is signed in, or its switchboard USR/ANS accepted.
func (s *Server) signedIn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if key := s.conns[c]; key != "" {
		s.unpend(key)
		s.conns[c] = ""
	}
}

func (s *Server) unpend(key string) {
	if s.pending[key]--; s.pending[key] <= 0 {
		delete(s.pending, key)
	}
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	if key, ok := s.conns[c]; ok {
		if key != "" {
			s.unpend(key)
		}
		delete(s.conns, c)
	}
	s.mu.Unlock()
	s.nconns.Add(-1)
}

// conn wraps a client connection with a command reader and writer.
type conn struct {
	net.Conn
	r   *msnp.Reader
	w   *msnp.Writer
	srv *Server
	rdl time.Time // read deadline currently set

	cookies int // outstanding switchboard cookies it asked for; guarded by Server.mu

	// Parking (park.go): while parked, no goroutine reads the connection;
	// the poller calls unpark when input (or EOF) arrives, and Close
	// unparks it too, so the session always ends through its own loop.
	pmu        sync.Mutex
	parked     bool
	closed     bool
	registered bool   // added to the poller's epoll set
	token      uint64 // the poller's name for it
	u          *user  // the notification session to resume, or
	sb         *switchboard
	sbm        *member // the switchboard session to resume
	waiting    bool    // a switchboard session waits for input (requestPark may interrupt it)
	parkReq    bool    // housekeeping asked it to park
	raw        syscall.RawConn
	active     atomic.Int64 // unix nanoseconds of the last command (idle timeout while parked)
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{Conn: nc, r: msnp.NewReader(nc), srv: s}
	c.w = msnp.NewWriter(&deadlineWriter{c: nc, d: s.cfg.WriteTimeout})
	return c
}

// Close closes the connection; a parked session is resumed so that its
// loop sees the closed connection and ends the session.
func (c *conn) Close() error {
	c.pmu.Lock()
	c.closed = true
	wasParked := c.parked
	c.parked = false
	c.pmu.Unlock()
	if wasParked {
		c.srv.poll.forget(c)
	}
	err := c.Conn.Close()
	if wasParked {
		go c.resume()
	}
	return err
}

// resume goes on with a session that was parked.
func (c *conn) resume() {
	if c.sbm != nil {
		c.srv.sbLoop(c)
		return
	}
	c.srv.runSession(c.u, true)
}

// deadlineWriter bounds every write by a deadline between d/2 and d from
// its start; the deadline is only moved when half of it is used up, which
// saves a timer update per write on busy connections.
type deadlineWriter struct {
	c   net.Conn
	d   time.Duration
	wdl time.Time // guarded by the msnp.Writer's lock
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	if now := time.Now(); w.wdl.Sub(now) < w.d/2 {
		w.wdl = now.Add(w.d)
		w.c.SetWriteDeadline(w.wdl)
	}
	return w.c.Write(b)
}

func (c *conn) send(cmd msnp.Command) error {
	err := c.w.Write(cmd)
	if err != nil {
		c.Close() // a client that cannot take writes is dropped
	}
	return err
}

func (c *conn) sendErr(code msnp.Code, trID int) error {
	return c.send(code.Command(trID))
}

// read reads one command within timeout (the deadline is moved only when a
// quarter of it is used up, so the bound is between 3/4 timeout and timeout).
func (c *conn) read(timeout time.Duration) (msnp.Command, error) {
	c.armRead(timeout)
	return c.r.ReadCommand()
}

// armRead sets the read deadline to about timeout from now.
func (c *conn) armRead(timeout time.Duration) {
	if now := time.Now(); c.rdl.Sub(now) < timeout*3/4 || c.rdl.Sub(now) > timeout {
		c.rdl = now.Add(timeout)
		c.SetReadDeadline(c.rdl)
	}
}

// handle serves a connection until it ends, or until a notification
// session is signed in: then it returns the user for runSession. kept
// means a switchboard session took the connection over (sbLoop ends it).
func (s *Server) handle(c *conn, dispatch bool) (u *user, kept bool) {
	cmd, err := c.read(s.cfg.AuthTimeout)
	if err != nil {
		s.logReadErr(c, err)
		return nil, false
	}
	switch cmd.Name {
	case "VER":
		return s.serveNS(c, cmd, dispatch), false
	case "USR", "ANS":
		return nil, s.serveSB(c, cmd)
	default:
		c.sendErr(msnp.CodeSyntax, max(cmd.TrID, 0))
	}
	return nil, false
}

func (s *Server) logReadErr(c net.Conn, err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		s.cfg.Log.Debug("connection timed out", "remote", c.RemoteAddr())
		return
	}
	s.cfg.Log.Info("closing connection", "remote", c.RemoteAddr(), "err", err)
}

// Shutdown stops accepting, tells signed-in clients OUT SSD, closes every
// connection and waits for the handlers (or ctx).
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() { close(s.stop) })
	s.mu.Lock()
	s.closed = true
	for l := range s.lns {
		l.Close()
	}
	var ns []*user
	for _, u := range s.users {
		ns = append(ns, u)
	}
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, u := range ns {
		wg.Add(1)
		go func() { defer wg.Done(); u.c.w.Write(msnp.New("OUT", msnp.NoTrID, "SSD")) }()
	}
	sent := make(chan struct{})
	go func() { wg.Wait(); close(sent) }()
	select {
	case <-sent:
	case <-time.After(time.Second): // closing below unblocks stuck writes
	case <-ctx.Done():
	}
	for _, c := range conns {
		c.Close()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	defer func() {
		s.pollOnce.Do(func() {}) // no poller from now on
		if s.poll != nil {
			s.poll.stop()
		}
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("server: shutdown: %w", ctx.Err())
	}
}

// housekeeping sends periodic challenges, drops clients that do not answer
// them, and expires switchboard cookies.
func (s *Server) housekeeping() {
	defer s.wg.Done()
	tick := min(s.cfg.ChallengeInterval, s.cfg.ChallengeTimeout, s.cfg.SBCookieTTL, s.cfg.IdleTimeout) / 4
	tick = max(tick, 50*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	rt := time.NewTicker(releaseQuiet / 2)
	defer rt.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-rt.C:
			s.release.tick(now)
		case now := <-t.C:
			type chlTo struct {
				u   *user
				chl string
			}
			var chl []chlTo
			var drop, idle []*user
			idleBefore := now.Add(-s.cfg.IdleTimeout)
			s.mu.Lock()
			for _, u := range s.users {
				switch {
				case u.c.idleSince(idleBefore):
					idle = append(idle, u)
				case u.chl != "" && now.Sub(u.chlSent) > s.cfg.ChallengeTimeout:
					drop = append(drop, u)
				case u.chl == "" && now.After(u.nextChl):
					u.chl = newChallenge()
					u.chlSent = now
					u.nextChl = now.Add(s.cfg.ChallengeInterval)
					chl = append(chl, chlTo{u, u.chl})
				}
			}
			s.expireCookies(now)
			sbIdle, sbPark := s.idleSwitchboards(idleBefore, now.Add(-tick))
			s.mu.Unlock()
			parks := 0
			for _, c := range sbPark {
				if c.requestPark() {
					parks++
				}
			}
			s.release.noteN(parks)
			for _, c := range sbIdle {
				s.cfg.Log.Debug("connection timed out", "remote", c.RemoteAddr())
				c.Close()
			}
			for _, x := range chl {
				x.u.c.send(msnp.New("CHL", 0, x.chl))
			}
			for _, u := range drop {
				s.cfg.Log.Info("no answer to challenge", "account", u.email)
				u.c.Close()
			}
			for _, u := range idle {
				s.cfg.Log.Debug("connection timed out", "account", u.email, "remote", u.c.RemoteAddr())
				u.c.Close()
			}
		}
	}
}

func newChallenge() string {
	var b [8]byte
	rand.Read(b[:])
	return strconv.FormatUint(binary.BigEndian.Uint64(b[:]), 10)
}

func newCookie() string {
	var b [12]byte
	rand.Read(b[:])
	return strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[0:4])), 10) + "." +
		strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[4:8])), 10) + "." +
		strconv.FormatUint(uint64(binary.BigEndian.Uint32(b[8:12])), 10)
}

// offload runs f on a fresh goroutine and waits for it, so that deep call
// chains (SQLite) grow that goroutine's stack, not the long-lived connection
// goroutine's, which keeps idle connections small.
func offload(f func()) {
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	<-done
}

// Stats reports current counts (for the load tool and tests).
type Stats struct {
	Conns, Users, Switchboards int
}

// Stats returns current counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Conns: len(s.conns), Users: len(s.users), Switchboards: len(s.sbs)}
}

package gateway

import (
	"github.com/oemkit/messenger/internal/clientaddr"

	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultPort is the MSNP port assumed when IP= names no port.
const DefaultPort = "1863"

// Server is the gateway's server half, an http.Handler to mount at Path.
// Each session is bridged to its own TCP connection to one of the
// service's own MSNP listeners: NSAddr, or one of Listeners named by IP=.
// The gateway is no relay to anything else.
type Server struct {
	// NSAddr is the notification (or dispatch) server, host:port; Server=NS
	// sessions go there unless IP= names one of Listeners.
	NSAddr string
	// Listeners are the service's other MSNP listeners (host:port), e.g. a
	// separate notification server or a listener for VM guests. A session's
	// IP= must name NSAddr or one of these by its port, with a host that is
	// theirs, the gateway's own (the request's Host or GatewayIP, which is
	// how a client in a VM sees the lab service), a loopback one, or one of
	// Hosts. The session then goes to that listener's own address.
	Listeners []string
	// Hosts are more names clients may use for the listeners (the host the
	// service puts in XFR SB, the address VM guests reach it at).
	Hosts []string
	// GatewayIP is sent as GW-IP; the request's Host when empty.
	GatewayIP string
	// AllowSB, when set, replaces the rule above for Server=SB: it reports
	// whether the IP= address (host:port) may be dialled as it is.
	AllowSB func(addr string) bool
	// MaxSessions bounds open sessions (1000); MaxSessionsPerAddr the
	// sessions of one client address, IPv6 by /64 (32; an honest client
	// has one NS session and one per open conversation). Over either, open
	// is answered 503.
	MaxSessions, MaxSessionsPerAddr int
	// MaxBuffered bounds the server bytes a session holds for the client
	// between its polls (1 MiB); past it the gateway stops reading from the
	// MSNP server until the client polls.
	MaxBuffered int
	// Dial reaches the backends; a net.Dialer when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// ReplyWait is how long a request carrying commands waits for the
	// backend's first reply bytes; 250 ms when zero.
	ReplyWait time.Duration
	// IdleTimeout drops a session the client has not polled for this long;
	// 60 s when zero.
	IdleTimeout time.Duration
	// Logf logs session events; log.Printf when nil.
	Logf func(format string, args ...any)

	mu       sync.Mutex
	sessions map[string]*session
	perAddr  map[string]int // open sessions (and opens in progress) per client address
	opening  int            // opens in progress
	closed   bool
	reaper   sync.Once
	done     chan struct{}
}

type session struct {
	id      string
	backend net.Conn
	kind    string
	addr    string
	client  string // client address key
	max     int    // MaxBuffered
	quit    chan struct{}
	once    sync.Once

	mu       sync.Mutex
	busy     bool // one request outstanding
	inbox    []byte
	eof      bool          // backend closed
	changed  chan struct{} // closed when inbox or eof change
	space    chan struct{} // closed when the client took the inbox
	lastSeen time.Time
}

func (s *Server) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
		return
	}
	log.Printf(format, args...)
}

const maxBody = 1 << 20

// ServeHTTP handles one gateway request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "gateway: use POST", http.StatusMethodNotAllowed)
		return
	}
	s.reaper.Do(s.startReaper)
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		http.Error(w, "gateway: read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(body) > maxBody {
		http.Error(w, "gateway: body too large", http.StatusRequestEntityTooLarge)
		return
	}
	q := r.URL.Query()
	action := q.Get("Action")
	var sess *session
	switch {
	case strings.EqualFold(action, "open"):
		sess, err = s.open(r.Context(), q.Get("Server"), q.Get("IP"), r.Host, clientaddr.Key(r.RemoteAddr))
		if err != nil {
			code := http.StatusBadGateway
			var oe *openError
			if errors.As(err, &oe) {
				code = oe.code
			}
			http.Error(w, err.Error(), code)
			return
		}
	case action == "" || strings.EqualFold(action, "poll"):
		sess = s.lookup(q.Get("SessionID"))
		if sess == nil {
			http.Error(w, "gateway: unknown or expired SessionID", http.StatusBadRequest)
			return
		}
		if strings.EqualFold(action, "poll") && len(body) > 0 {
			http.Error(w, "gateway: poll carries no body", http.StatusBadRequest)
			return
		}
	default:
		http.Error(w, "gateway: unknown Action "+strconv.Quote(action), http.StatusBadRequest)
		return
	}
	sess.mu.Lock()
	if sess.busy {
		sess.mu.Unlock()
		http.Error(w, "gateway: a request for this session is already outstanding", http.StatusBadRequest)
		return
	}
	sess.busy = true
	sess.lastSeen = time.Now()
	sess.mu.Unlock()
	defer func() {
		sess.mu.Lock()
		sess.busy = false
		sess.lastSeen = time.Now()
		sess.mu.Unlock()
	}()

	if len(body) > 0 {
		sess.backend.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := sess.backend.Write(body); err != nil {
			s.drop(sess)
			s.respond(w, r, sess, nil, true)
			return
		}
		s.waitReply(r.Context(), sess)
	}
	sess.mu.Lock()
	out := sess.inbox
	sess.inbox = nil
	eof := sess.eof
	close(sess.space)
	sess.space = make(chan struct{})
	sess.mu.Unlock()
	if eof {
		s.drop(sess)
	} else {
		s.rotate(sess)
	}
	s.respond(w, r, sess, out, eof)
}

// waitReply waits up to ReplyWait for backend bytes, then briefly for more.
func (s *Server) waitReply(ctx context.Context, sess *session) {
	wait := s.ReplyWait
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		sess.mu.Lock()
		n, eof, ch := len(sess.inbox), sess.eof, sess.changed
		sess.mu.Unlock()
		if eof {
			return
		}
		if n > 0 {
			// Gather what follows right behind (multi-line replies).
			quiet := time.NewTimer(2 * time.Millisecond)
			select {
			case <-ch:
				quiet.Stop()
				continue
			case <-quiet.C:
				return
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ch:
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

func (s *Server) respond(w http.ResponseWriter, r *http.Request, sess *session, body []byte, closed bool) {
	gw := s.GatewayIP
	if gw == "" {
		gw = r.Host
	}
	h := Header{SessionID: sess.id, GatewayIP: gw, Closed: closed}
	w.Header().Set(HeaderName, h.String())
	w.Header().Set("Content-Type", ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// openError is an open refused before dialling, with its HTTP status.
type openError struct {
	code int
	msg  string
}

func (e *openError) Error() string { return e.msg }

func (s *Server) open(ctx context.Context, kind, ip, reqHost, client string) (*session, error) {
	var addr string
	switch strings.ToUpper(kind) {
	case "NS":
		if s.NSAddr == "" {
			return nil, errors.New("gateway: no notification server configured")
		}
		addr = s.NSAddr
		if ip != "" {
			if a, ok := s.target(withPort(ip), reqHost); ok {
				addr = a
			}
		}
	case "SB":
		if ip == "" {
			return nil, errors.New("gateway: Server=SB needs IP=host[:port]")
		}
		var ok bool
		if s.AllowSB != nil {
			addr, ok = withPort(ip), s.AllowSB(withPort(ip))
		} else {
			addr, ok = s.target(withPort(ip), reqHost)
		}
		if !ok {
			return nil, &openError{http.StatusForbidden, fmt.Sprintf("gateway: switchboard %s is not served by this gateway (it reaches only this service's MSNP servers)", withPort(ip))}
		}
	default:
		return nil, fmt.Errorf("gateway: Server=%q: want NS or SB", kind)
	}
	if err := s.reserve(client); err != nil {
		return nil, err
	}
	sess, err := s.dial(ctx, kind, addr, client)
	if err != nil {
		s.release(client, false)
	}
	return sess, err
}

// reserve counts an open in progress for client, or refuses it.
func (s *Server) reserve(client string) error {
	maxAll, maxAddr := s.MaxSessions, s.MaxSessionsPerAddr
	if maxAll <= 0 {
		maxAll = 1000
	}
	if maxAddr <= 0 {
		maxAddr = 32
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("gateway: server is shutting down")
	}
	if len(s.sessions)+s.opening >= maxAll {
		return &openError{http.StatusServiceUnavailable, fmt.Sprintf("gateway: too many sessions (%d open); try again later", maxAll)}
	}
	if s.perAddr[client] >= maxAddr {
		return &openError{http.StatusServiceUnavailable, fmt.Sprintf("gateway: too many sessions from your address (%d open); close conversations you no longer use", maxAddr)}
	}
	if s.perAddr == nil {
		s.perAddr = map[string]int{}
	}
	s.perAddr[client]++
	s.opening++
	return nil
}

// release undoes reserve (opened: false) or counts a closed session (true).
// Caller does not hold s.mu.
func (s *Server) release(client string, opened bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.releaseLocked(client, opened)
}

func (s *Server) releaseLocked(client string, opened bool) {
	if !opened {
		s.opening--
	}
	if n := s.perAddr[client] - 1; n > 0 {
		s.perAddr[client] = n
	} else {
		delete(s.perAddr, client)
	}
}

func (s *Server) dial(ctx context.Context, kind, addr, client string) (*session, error) {
	dial := s.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 15 * time.Second, KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}}
		dial = d.DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := dial(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gateway: connect to %s server %s: %w", strings.ToUpper(kind), addr, err)
	}
	maxBuf := s.MaxBuffered
	if maxBuf <= 0 {
		maxBuf = 1 << 20
	}
	sess := &session{backend: conn, kind: strings.ToUpper(kind), addr: addr, client: client, max: maxBuf,
		quit: make(chan struct{}), changed: make(chan struct{}), space: make(chan struct{}), lastSeen: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return nil, errors.New("gateway: server is shutting down")
	}
	s.opening--
	if s.sessions == nil {
		s.sessions = make(map[string]*session)
	}
	sess.id = newID()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	go sess.pump()
	return sess, nil
}

// pump copies backend bytes into the inbox until the backend closes,
// holding at most sess.max bytes: when the inbox is full it waits for the
// client to take it.
func (sess *session) pump() {
	buf := make([]byte, 16<<10)
	for {
		sess.mu.Lock()
		for len(sess.inbox) >= sess.max {
			space := sess.space
			sess.mu.Unlock()
			select {
			case <-space:
			case <-sess.quit:
				return
			}
			sess.mu.Lock()
		}
		room := min(len(buf), sess.max-len(sess.inbox))
		sess.mu.Unlock()
		n, err := sess.backend.Read(buf[:room])
		sess.mu.Lock()
		if n > 0 {
			sess.inbox = append(sess.inbox, buf[:n]...)
		}
		if err != nil {
			sess.eof = true
		}
		close(sess.changed)
		sess.changed = make(chan struct{})
		sess.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// target returns which of the service's MSNP listeners (NSAddr,
// Listeners) the address a client named (host:port) is: the listener with
// that port, if the host is one the listeners are known by.
func (s *Server) target(addr, reqHost string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	known := append([]string{reqHost, s.GatewayIP}, s.Hosts...)
	var match string
	for _, l := range append([]string{s.NSAddr}, s.Listeners...) {
		lh, lp, err := net.SplitHostPort(l)
		if err != nil {
			continue
		}
		known = append(known, lh)
		if lp == port && match == "" {
			match = l
		}
	}
	if match == "" {
		return "", false
	}
	// The gateway runs on the service's host: loopback names it too (the
	// address a listener on 0.0.0.0 or :: puts in XFR SB for the
	// gateway's own connections).
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.IsLoopback() || strings.EqualFold(host, "localhost") {
		return match, true
	}
	for _, k := range known {
		if h, _, err := net.SplitHostPort(k); err == nil {
			k = h
		}
		if k != "" && strings.EqualFold(strings.Trim(k, "[]"), strings.Trim(host, "[]")) {
			return match, true
		}
	}
	return "", false
}

func withPort(ip string) string {
	if _, _, err := net.SplitHostPort(ip); err == nil {
		return ip
	}
	return net.JoinHostPort(strings.Trim(ip, "[]"), DefaultPort)
}

func (s *Server) lookup(id string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// rotate gives the session a new SessionID, as the MSN gateway does on
// every response; the client must use the latest one.
func (s *Server) rotate(sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.id] != sess {
		return
	}
	delete(s.sessions, sess.id)
	prefix, _, _ := strings.Cut(sess.id, ".")
	sess.id = prefix + "." + strconv.Itoa(int(randUint32()%100000))
	for s.sessions[sess.id] != nil {
		sess.id = newID()
	}
	s.sessions[sess.id] = sess
}

func (s *Server) drop(sess *session) {
	s.mu.Lock()
	if s.sessions[sess.id] == sess {
		delete(s.sessions, sess.id)
		s.releaseLocked(sess.client, true)
	}
	s.mu.Unlock()
	sess.close()
}

func (sess *session) close() {
	sess.once.Do(func() { close(sess.quit) })
	sess.backend.Close()
}

func (s *Server) startReaper() {
	s.mu.Lock()
	s.done = make(chan struct{})
	done := s.done
	s.mu.Unlock()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = 60 * time.Second
	}
	go func() {
		t := time.NewTicker(idle / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			var stale []*session
			s.mu.Lock()
			for _, sess := range s.sessions {
				sess.mu.Lock()
				if !sess.busy && time.Since(sess.lastSeen) > idle {
					stale = append(stale, sess)
				}
				sess.mu.Unlock()
			}
			s.mu.Unlock()
			for _, sess := range stale {
				s.logf("gateway: session %s to %s %s idle for %v: closed", sess.id, sess.kind, sess.addr, idle)
				s.drop(sess)
			}
		}
	}()
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close ends every session and refuses new ones.
func (s *Server) Close() error {
	s.reaper.Do(func() {}) // no reaper after Close
	s.mu.Lock()
	s.closed = true
	sessions := s.sessions
	s.sessions = nil
	if s.done != nil {
		close(s.done)
		s.done = nil
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.close()
	}
	return nil
}

func newID() string {
	return fmt.Sprintf("%d.%d", randUint32()%1000000000, randUint32()%100000)
}

func randUint32() uint32 {
	var b [4]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint32(b[:])
}

package gateway

import (
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
// Each session is bridged to its own TCP connection: to NSAddr for
// Server=NS, to the IP= address for Server=SB.
type Server struct {
	// NSAddr is the notification server, host:port.
	NSAddr string
	// GatewayIP is sent as GW-IP; the request's Host when empty.
	GatewayIP string
	// AllowSB reports whether a switchboard address (host:port) from IP=
	// may be dialled as it is. When nil, the gateway is not an open relay:
	// it dials switchboards on NSAddr's host, and maps a switchboard on
	// its own address (the request's Host or GatewayIP, which is how a
	// client in a VM sees the lab server) to the same port on NSAddr's host.
	AllowSB func(addr string) bool
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
	closed   bool
	reaper   sync.Once
	done     chan struct{}
}

type session struct {
	id      string
	backend net.Conn
	kind    string
	addr    string

	mu       sync.Mutex
	busy     bool // one request outstanding
	inbox    []byte
	eof      bool // backend closed
	changed  chan struct{}
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
		sess, err = s.open(r.Context(), q.Get("Server"), q.Get("IP"), r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
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

func (s *Server) open(ctx context.Context, kind, ip, reqHost string) (*session, error) {
	var addr string
	switch strings.ToUpper(kind) {
	case "NS":
		if s.NSAddr == "" {
			return nil, errors.New("gateway: no notification server configured")
		}
		addr = s.NSAddr
	case "SB":
		if ip == "" {
			return nil, errors.New("gateway: Server=SB needs IP=host[:port]")
		}
		var ok bool
		addr, ok = s.sbTarget(withPort(ip), reqHost)
		if !ok {
			return nil, fmt.Errorf("gateway: switchboard %s is not served by this gateway", withPort(ip))
		}
	default:
		return nil, fmt.Errorf("gateway: Server=%q: want NS or SB", kind)
	}
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
	sess := &session{backend: conn, kind: strings.ToUpper(kind), addr: addr, changed: make(chan struct{}), lastSeen: time.Now()}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return nil, errors.New("gateway: server is shutting down")
	}
	if s.sessions == nil {
		s.sessions = make(map[string]*session)
	}
	sess.id = newID()
	s.sessions[sess.id] = sess
	s.mu.Unlock()
	go sess.pump()
	return sess, nil
}

// pump copies backend bytes into the inbox until the backend closes.
func (sess *session) pump() {
	buf := make([]byte, 16<<10)
	for {
		n, err := sess.backend.Read(buf)
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

// sbTarget returns where to dial a switchboard the client named.
func (s *Server) sbTarget(addr, reqHost string) (string, bool) {
	if s.AllowSB != nil {
		return addr, s.AllowSB(addr)
	}
	nsHost, _, err := net.SplitHostPort(s.NSAddr)
	if err != nil {
		return "", false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", false
	}
	if strings.EqualFold(host, nsHost) {
		return addr, true
	}
	for _, self := range []string{reqHost, s.GatewayIP} {
		if h, _, err := net.SplitHostPort(self); err == nil {
			self = h
		}
		if self != "" && strings.EqualFold(strings.Trim(self, "[]"), host) {
			return net.JoinHostPort(nsHost, port), true
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
	}
	s.mu.Unlock()
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
		sess.backend.Close()
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

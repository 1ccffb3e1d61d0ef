// Package sip is messengerd's SIP Communications Service: a registrar,
// a presence agent (SUBSCRIBE/NOTIFY with the XPIDF documents Windows
// Messenger 5.x used) and an instant-message relay (SIP MESSAGE), over
// TCP, with [MS-SIPAE] Kerberos authentication: tickets are verified with
// the service's keytab (from an MIT KDC, say), every request after
// sign-in must carry the client's signature, and everything the server
// sends carries its own.
//
// Bad input is contained: a malformed or oversized message closes only
// its connection; a client that floods REGISTERs gets 503 and then loses
// its connection; the number of connections is bounded.
package sip

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
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

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
)

// Config configures the service.
type Config struct {
	// Domain is the SIP domain users register in, e.g. "lab.test".
	Domain string
	// Keytab holds the key of Service; Service is the Kerberos principal
	// the challenge names as targetname, e.g. "sip/lab.test".
	Keytab, Service string
	// Realm is the [MS-SIPAE] realm string (default
	// "SIP Communications Service"); it is not the Kerberos realm.
	Realm string
	// Now is the service clock (tests move it); default time.Now.
	Now func() time.Time
	// MaxConns bounds open connections (default 4096).
	MaxConns int
	// RegisterRate and RegisterBurst bound REGISTERs per connection per
	// second (default 20, burst 40); beyond them the server answers 503,
	// and after FloodClose refusals (default 200) drops the connection.
	RegisterRate, RegisterBurst float64
	FloodClose                  int
	// MaxPendingInvites bounds the calls being set up (ringing) from one
	// user and to one user (default 4); MaxPendingPerAddr those from one
	// IP address (default 16); MaxCallsPerConn the calls of one
	// connection (default 16). InviteTimeout ends a call nobody answers
	// (default 60 s).
	MaxPendingInvites, MaxPendingPerAddr, MaxCallsPerConn int
	InviteTimeout                                         time.Duration
	// Logf logs (default log.Printf).
	Logf func(format string, args ...any)
}

// Server is a running SIP service.
type Server struct {
	cfg Config
	acc *kerberos.Acceptor

	mu       sync.Mutex
	conns    map[*conn]bool
	regs     map[string]*conn           // address of record -> its connection
	status   map[string]string          // address of record -> status
	watchers map[string]map[*watch]bool // presentity -> subscriptions
	ln       []net.Listener
	// calls (calls.go)
	dialogs                             map[string]*dialog // by Call-ID
	pendingFrom, pendingTo, pendingAddr map[string]int
	known                               map[string]bool // addresses of record that have signed in
	closed                              bool
	wg                                  sync.WaitGroup
}

type watch struct {
	c        *conn
	callID   string
	watcher  string // the watcher's URI
	wTag     string // the watcher's From tag
	ourTag   string // the To tag we gave
	cseq     uint32
	presence string
}

// New checks the configuration and loads the keytab.
func New(cfg Config) (*Server, error) {
	if cfg.Domain == "" || cfg.Service == "" || cfg.Keytab == "" {
		return nil, errors.New("sip: need a domain, a service principal (sip/host) and its keytab")
	}
	if !strings.HasPrefix(cfg.Service, "sip/") {
		return nil, fmt.Errorf("sip: service principal %q: want sip/host", cfg.Service)
	}
	if cfg.Realm == "" {
		cfg.Realm = sipae.DefaultRealm
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 4096
	}
	if cfg.RegisterRate <= 0 {
		cfg.RegisterRate = 20
	}
	if cfg.RegisterBurst <= 0 {
		cfg.RegisterBurst = 40
	}
	if cfg.FloodClose <= 0 {
		cfg.FloodClose = 200
	}
	if cfg.Logf == nil {
		cfg.Logf = log.Printf
	}
	acc, err := kerberos.NewAcceptor(cfg.Keytab, cfg.Service)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	acc.Now = func() time.Time { return cfg.Now() }
	s := &Server{cfg: cfg, acc: acc, conns: map[*conn]bool{}, regs: map[string]*conn{},
		status: map[string]string{}, watchers: map[string]map[*watch]bool{}}
	s.callDefaults()
	return s, nil
}

// Serve accepts connections on l until Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	s.ln = append(s.ln, l)
	s.mu.Unlock()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			// EMFILE, ENFILE, ECONNABORTED: back off and keep serving.
			var t interface{ Temporary() bool }
			if errors.As(err, &t) && t.Temporary() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		if len(s.conns) >= s.cfg.MaxConns {
			s.mu.Unlock()
			s.cfg.Logf("sip: %s refused: %d connections open (MaxConns)", nc.RemoteAddr(), s.cfg.MaxConns)
			nc.Close()
			continue
		}
		c := &conn{s: s, nc: nc, br: bufio.NewReaderSize(nc, 16<<10), pending: map[string]chan *sipmsg.Message{},
			signed: map[string]bool{}, done: make(chan struct{}), tokens: s.cfg.RegisterBurst, last: time.Now()}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() { defer s.wg.Done(); c.serve() }()
	}
}

// Close stops the listeners and closes every connection.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.ln {
		l.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Registered reports the connection count and registered addresses.
func (s *Server) Registered() (conns int, aors []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for a := range s.regs {
		aors = append(aors, a)
	}
	return len(s.conns), aors
}

type conn struct {
	s  *Server
	nc net.Conn
	br *bufio.Reader

	wmu sync.Mutex

	mu      sync.Mutex
	sa      *sipae.SA
	saEnd   time.Time // the end time of the ticket behind sa
	aor     string
	pending map[string]chan *sipmsg.Message
	signed  map[string]bool // transactions whose answers must carry the client's signature (calls)
	done    chan struct{}   // closed when the connection ends
	tokens  float64
	last    time.Time
	refused int
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// idle bounds how long a connection may stay silent: short before
// sign-in, the registration lifetime after.
const (
	idleBefore = 30 * time.Second
	idleAfter  = 20 * time.Minute
)

func (c *conn) serve() {
	defer c.gone()
	for {
		c.mu.Lock()
		idle := idleBefore
		if c.sa != nil {
			idle = idleAfter
		}
		c.mu.Unlock()
		_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		m, err := sipmsg.Read(c.br, sipmsg.Limits{})
		if err != nil {
			if errors.Is(err, sipmsg.ErrMalformed) || errors.Is(err, sipmsg.ErrTooLarge) {
				c.s.cfg.Logf("sip: %s: %v; closing the connection", c.nc.RemoteAddr(), err)
			}
			return
		}
		if !m.IsRequest() {
			c.mu.Lock()
			ch := c.pending[txKey(m)]
			signed := c.signed[txKey(m)]
			c.mu.Unlock()
			if signed {
				if err := c.verifyResponse(m); err != nil {
					c.s.cfg.Logf("sip: %s: %d to %s dropped: %v", c.nc.RemoteAddr(), m.Code, txKey(m), err)
					continue
				}
				select {
				case ch <- m:
				default:
				}
				continue
			}
			if ch != nil && m.Code >= 200 {
				select {
				case ch <- m:
				default:
				}
			}
			continue
		}
		if !c.handle(m) {
			c.hangUp()
			return
		}
	}
}

// hangUp ends a connection the server drops (a REGISTER flood) so that
// the client still reads the answers already sent: close our side for
// writing, then read and discard what it still sends, for at most 1 s and
// 1 MiB, before the close. Closing with unread input would reset the
// connection and the client's kernel would throw those answers away.
func (c *conn) hangUp() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.CopyN(io.Discard, c.nc, 1<<20)
}

func txKey(m *sipmsg.Message) string {
	n, method, _ := m.CSeq()
	return m.Get("Call-ID") + "\x00" + strconv.FormatUint(uint64(n), 10) + " " + method
}

// gone drops the connection's registration and subscriptions.
func (c *conn) gone() {
	c.nc.Close()
	close(c.done)
	s := c.s
	s.dropCalls(c)
	s.mu.Lock()
	delete(s.conns, c)
	c.mu.Lock()
	aor := c.aor
	c.mu.Unlock()
	var offline string
	if aor != "" && s.regs[aor] == c {
		delete(s.regs, aor)
		s.status[aor] = "offline"
		offline = aor
	}
	for p, ws := range s.watchers {
		for w := range ws {
			if w.c == c {
				delete(ws, w)
			}
		}
		if len(ws) == 0 {
			delete(s.watchers, p)
		}
	}
	s.mu.Unlock()
	if offline != "" {
		s.notifyAll(offline)
	}
}

// send writes m, signed with the connection's SA when sign is set.
func (c *conn) send(m *sipmsg.Message, sign bool) error {
	c.mu.Lock()
	sa := c.sa
	c.mu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if sign && sa != nil {
		if err := sa.SignServer(m); err != nil {
			return err
		}
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := c.nc.Write(m.Bytes())
	return err
}

func (c *conn) reply(req *sipmsg.Message, code int, reason string, sign bool, extra ...string) {
	r := sipmsg.NewResponse(req, code, reason)
	if r.Get("To") != "" && sipmsg.Param(r.Get("To"), "tag") == "" {
		r.Set("To", r.Get("To")+";tag="+c.s.tag())
	}
	for i := 0; i+1 < len(extra); i += 2 {
		r.Add(extra[i], extra[i+1])
	}
	r.Add("Server", "messengerd-sip")
	_ = c.send(r, sign)
}

func (s *Server) tag() string { return randHex(8) }

// warn formats a Warning header value (RFC 3261 section 20.43, code 399).
func warn(text string) string {
	return `399 messengerd "` + strings.ReplaceAll(text, `"`, `'`) + `"`
}

// allow applies the per-connection REGISTER budget (a token bucket).
func (c *conn) allow() (ok, drop bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.tokens += now.Sub(c.last).Seconds() * c.s.cfg.RegisterRate
	if c.tokens > c.s.cfg.RegisterBurst {
		c.tokens = c.s.cfg.RegisterBurst
	}
	c.last = now
	if c.tokens >= 1 {
		c.tokens--
		return true, false
	}
	c.refused++
	return false, c.refused >= c.s.cfg.FloodClose
}

// handle answers one request; false closes the connection.
func (c *conn) handle(m *sipmsg.Message) bool {
	if m.Method == "REGISTER" {
		ok, drop := c.allow()
		if drop {
			c.s.cfg.Logf("sip: %s: REGISTER flood (%d refused); closing the connection", c.nc.RemoteAddr(), c.refused)
			return false
		}
		if !ok {
			c.reply(m, 503, "Service Unavailable", false, "Retry-After", "1", "Warning", warn("too many REGISTERs on this connection; slow down"))
			return true
		}
		c.register(m)
		return true
	}
	if m.Method == "ACK" {
		// An ACK is never answered: one that is not signed is dropped
		// ([MS-SIPAE] 3.3.5.1).
		if err := c.verifyRequest(m); err != nil {
			c.s.cfg.Logf("sip: %s: ACK dropped: %v", c.nc.RemoteAddr(), err)
			return true
		}
		c.ack(m)
		return true
	}
	sa, p, ok := c.authorized(m)
	if !ok {
		return true
	}
	switch m.Method {
	case "INVITE":
		go c.invite(m)
	case "CANCEL":
		c.cancelCall(m)
	case "BYE":
		go c.hangupCall(m)
	case "SUBSCRIBE":
		c.subscribe(m)
	case "SERVICE":
		c.service(m)
	case "MESSAGE":
		go c.relay(m)
	case "OPTIONS":
		c.reply(m, 200, "OK", true, "Allow", allow)
	default:
		c.reply(m, 405, "Method Not Allowed", true, "Allow", allow)
	}
	_, _ = sa, p
	return true
}

const allow = "REGISTER, SUBSCRIBE, SERVICE, MESSAGE, OPTIONS, INVITE, ACK, BYE, CANCEL"

// challenge answers 401 with the Kerberos challenge and the Date header
// the client checks its clock against.
func (c *conn) challenge(m *sipmsg.Message, why string) {
	extra := []string{"WWW-Authenticate", sipae.Format(sipae.ChallengeOrder, sipae.Params{"realm": c.s.cfg.Realm, "targetname": c.s.cfg.Service, "version": "3"}),
		"Date", c.s.cfg.Now().UTC().Format(http.TimeFormat)}
	if why != "" {
		extra = append(extra, "Warning", warn(why))
	}
	c.reply(m, 401, "Unauthorized", false, extra...)
}

// authorized checks a signed request against the connection's SA.
func (c *conn) authorized(m *sipmsg.Message) (*sipae.SA, sipae.Params, bool) {
	c.mu.Lock()
	sa, aor, end := c.sa, c.aor, c.saEnd
	c.mu.Unlock()
	v := m.Get("Authorization")
	if sa == nil || v == "" {
		c.challenge(m, "")
		return nil, nil, false
	}
	if now := c.s.cfg.Now(); now.After(end) {
		c.challenge(m, fmt.Sprintf("the Kerberos ticket behind this sign-in ended at %s (%s ago); sign in again with a new ticket",
			end.UTC().Format(time.RFC3339), now.Sub(end).Round(time.Second)))
		return nil, nil, false
	}
	scheme, p, err := sipae.ParseHeader(v)
	if err != nil || !strings.EqualFold(scheme, sipae.Scheme) {
		c.reply(m, 400, "Bad Request", false, "Warning", warn(fmt.Sprintf("Authorization: %v", err)))
		return nil, nil, false
	}
	if p["opaque"] != sa.Opaque {
		c.challenge(m, "no security association "+p["opaque"]+" on this connection; sign in again")
		return nil, nil, false
	}
	if err := sa.VerifyClient(m, p); err != nil {
		c.s.cfg.Logf("sip: %s (%s): %s refused: %v", c.nc.RemoteAddr(), sa.Peer, m.Method, err)
		c.challenge(m, err.Error())
		return nil, nil, false
	}
	if uri := sipmsg.AddrURI(m.Get("From")); aor != "" && !strings.EqualFold(uri, aor) {
		c.reply(m, 403, "Forbidden", true, "Warning", warn(fmt.Sprintf("From %s is not the signed-in %s", uri, aor)))
		return nil, nil, false
	}
	return sa, p, true
}

func userOf(uri string) (user, domain string) {
	u, d, _ := strings.Cut(strings.TrimPrefix(strings.ToLower(uri), "sip:"), "@")
	return u, d
}

func (c *conn) register(m *sipmsg.Message) {
	v := m.Get("Authorization")
	if v == "" {
		c.challenge(m, "")
		return
	}
	scheme, p, err := sipae.ParseHeader(v)
	if err != nil {
		c.challenge(m, err.Error())
		return
	}
	if !strings.EqualFold(scheme, sipae.Scheme) {
		c.challenge(m, "this server speaks Kerberos only, not "+scheme)
		return
	}
	aor := strings.ToLower(sipmsg.AddrURI(m.Get("From")))
	expires := 900
	if e := m.Get("Expires"); e != "" {
		n, err := strconv.Atoi(e)
		if err != nil || n < 0 {
			c.reply(m, 400, "Bad Request", false, "Warning", warn("Expires "+e+" is not a number of seconds"))
			return
		}
		expires = min(n, 3600)
	}
	if p["gssapi-data"] == "" {
		// A refresh signed with the current SA.
		if _, _, ok := c.authorized(m); !ok {
			return
		}
		c.bind(m, aor, expires)
		return
	}
	if p["realm"] != c.s.cfg.Realm || p["targetname"] != c.s.cfg.Service {
		c.challenge(m, fmt.Sprintf("realm %q and targetname %q are not this server's", p["realm"], p["targetname"]))
		return
	}
	if len(p["gssapi-data"]) > base64.StdEncoding.EncodedLen(kerberos.MaxTokenSize) {
		c.reply(m, 403, "Forbidden", false, "Warning", warn("gssapi-data larger than a Kerberos AP-REQ can be"))
		return
	}
	tok, err := base64.StdEncoding.DecodeString(p["gssapi-data"])
	if err != nil {
		c.reply(m, 403, "Forbidden", false, "Warning", warn("gssapi-data is not base64"))
		return
	}
	acc, err := c.s.acc.Accept(tok)
	if err != nil {
		c.s.cfg.Logf("sip: %s: REGISTER %s: %v", c.nc.RemoteAddr(), aor, err)
		extra := []string{"Warning", warn(err.Error()), "Date", c.s.cfg.Now().UTC().Format(http.TimeFormat)}
		// The reason as a Kerberos error token (RFC 4121 section 4.1), for
		// clients that act on its code rather than the Warning's prose.
		if et, terr := c.s.acc.ErrorToken(err); terr == nil {
			extra = append(extra, "WWW-Authenticate", sipae.Format([]string{"realm", "targetname", "gssapi-data", "version"}, sipae.Params{"realm": c.s.cfg.Realm, "targetname": c.s.cfg.Service,
				"version": "3", "gssapi-data": base64.StdEncoding.EncodeToString(et)}))
		}
		c.reply(m, 403, "Forbidden", false, extra...)
		return
	}
	user, domain := userOf(aor)
	princ, _, _ := strings.Cut(acc.Client, "@")
	if user != strings.ToLower(princ) || domain != strings.ToLower(c.s.cfg.Domain) {
		c.reply(m, 403, "Forbidden", false, "Warning", warn(fmt.Sprintf("Kerberos principal %s may not register %s", acc.Client, aor)))
		return
	}
	sa, err := sipae.NewSA(acc.Key, false, c.s.cfg.Realm, c.s.cfg.Service, randHex(4))
	if err != nil {
		c.reply(m, 403, "Forbidden", false, "Warning", warn(err.Error()))
		return
	}
	sa.Peer = acc.Client
	c.mu.Lock()
	c.sa, c.saEnd = sa, acc.Expires
	c.mu.Unlock()
	c.bind(m, aor, expires)
}

// bind records (or with Expires 0 removes) the registration and answers
// with a signed 200.
func (c *conn) bind(m *sipmsg.Message, aor string, expires int) {
	s := c.s
	// A registration lasts no longer than the ticket that signed it in:
	// the client renews its ticket when it is granted less than it asked.
	c.mu.Lock()
	if left := int(c.saEnd.Sub(s.cfg.Now()) / time.Second); expires > left {
		expires = max(left, 1)
	}
	c.mu.Unlock()
	s.mu.Lock()
	var old *conn
	if expires == 0 {
		if s.regs[aor] == c {
			delete(s.regs, aor)
			s.status[aor] = "offline"
		}
	} else {
		old = s.regs[aor]
		s.regs[aor] = c
		s.known[aor] = true
		if st := s.status[aor]; st == "" || st == "offline" {
			s.status[aor] = "online"
		}
	}
	s.mu.Unlock()
	c.mu.Lock()
	c.aor = aor
	c.mu.Unlock()
	if old != nil && old != c {
		old.nc.Close() // a newer sign-in of the same user replaces it
	}
	extra := []string{"Expires", strconv.Itoa(expires)}
	if ct := m.Get("Contact"); ct != "" {
		extra = append(extra, "Contact", ct+";expires="+strconv.Itoa(expires))
	}
	c.reply(m, 200, "OK", true, extra...)
	s.notifyAll(aor)
}

func (c *conn) subscribe(m *sipmsg.Message) {
	target := strings.ToLower(sipmsg.AddrURI(m.URI))
	if ev := m.Get("Event"); !strings.EqualFold(strings.TrimSpace(strings.Split(ev, ";")[0]), "presence") {
		c.reply(m, 489, "Bad Event", true, "Allow-Events", "presence")
		return
	}
	expires := 3600
	if e := m.Get("Expires"); e != "" {
		if n, err := strconv.Atoi(e); err == nil && n >= 0 {
			expires = min(n, 3600)
		}
	}
	w := &watch{c: c, callID: m.Get("Call-ID"), watcher: sipmsg.AddrURI(m.Get("From")), wTag: sipmsg.Param(m.Get("From"), "tag"), ourTag: c.s.tag(), presence: target}
	s := c.s
	s.mu.Lock()
	ws := s.watchers[target]
	for old := range ws {
		if old.c == c && old.callID == w.callID {
			delete(ws, old)
		}
	}
	if expires > 0 {
		if ws == nil {
			ws = map[*watch]bool{}
			s.watchers[target] = ws
		}
		if len(ws) < 1000 {
			ws[w] = true
		}
	}
	s.mu.Unlock()
	r := sipmsg.NewResponse(m, 200, "OK")
	r.Set("To", r.Get("To")+";tag="+w.ourTag)
	r.Add("Expires", strconv.Itoa(expires))
	r.Add("Contact", "<sip:"+s.cfg.Domain+";transport=tcp>")
	_ = c.send(r, true)
	if expires > 0 {
		s.notify(w)
	}
}

func (c *conn) service(m *sipmsg.Message) {
	if !strings.HasPrefix(strings.ToLower(m.Get("Content-Type")), sipua.XPIDFType) {
		c.reply(m, 415, "Unsupported Media Type", true, "Accept", sipua.XPIDFType)
		return
	}
	_, status, err := sipua.ParsePresence(m.Body)
	if err != nil {
		c.reply(m, 400, "Bad Request", true, "Warning", warn(err.Error()))
		return
	}
	c.mu.Lock()
	aor := c.aor
	c.mu.Unlock()
	c.s.mu.Lock()
	c.s.status[aor] = status
	c.s.mu.Unlock()
	c.reply(m, 200, "OK", true)
	c.s.notifyAll(aor)
}

// notifyAll sends the presence of aor to every watcher.
func (s *Server) notifyAll(aor string) {
	s.mu.Lock()
	var ws []*watch
	for w := range s.watchers[aor] {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	for _, w := range ws {
		s.notify(w)
	}
}

// notify sends one NOTIFY, signed for the watcher's connection.
func (s *Server) notify(w *watch) {
	s.mu.Lock()
	st := s.status[w.presence]
	if st == "" {
		st = "offline"
	}
	w.cseq++
	seq := w.cseq
	s.mu.Unlock()
	doc, err := sipua.PresenceDoc(w.presence, st)
	if err != nil {
		return
	}
	n := &sipmsg.Message{Method: "NOTIFY", URI: w.watcher}
	n.Add("Via", "SIP/2.0/TCP "+w.c.nc.LocalAddr().String()+";branch=z9hG4bK"+randHex(6))
	n.Add("Max-Forwards", "70")
	n.Add("From", "<"+w.presence+">;tag="+w.ourTag)
	n.Add("To", "<"+w.watcher+">;tag="+w.wTag)
	n.Add("Call-ID", w.callID)
	n.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" NOTIFY")
	n.Add("Event", "presence")
	n.Add("Subscription-State", "active")
	n.Add("Content-Type", sipua.XPIDFType)
	n.Body = doc
	_ = w.c.send(n, true)
}

// relay forwards a MESSAGE to the recipient's connection and its answer
// back to the sender.
func (c *conn) relay(m *sipmsg.Message) {
	target := strings.ToLower(sipmsg.AddrURI(m.URI))
	if len(m.Body) > sipua.MaxMessage {
		c.reply(m, 413, "Request Entity Too Large", true)
		return
	}
	c.s.mu.Lock()
	dst := c.s.regs[target]
	c.s.mu.Unlock()
	if dst == nil {
		c.reply(m, 480, "Temporarily Unavailable", true, "Warning", warn(target+" is not signed in"))
		return
	}
	f := &sipmsg.Message{Method: "MESSAGE", URI: target}
	f.Add("Via", "SIP/2.0/TCP "+dst.nc.LocalAddr().String()+";branch=z9hG4bK"+randHex(6))
	f.Add("Max-Forwards", "69")
	for _, h := range []string{"From", "To", "Call-ID", "CSeq", "Content-Type"} {
		if v := m.Get(h); v != "" {
			f.Add(h, v)
		}
	}
	f.Body = m.Body
	ch := make(chan *sipmsg.Message, 1)
	key := txKey(f)
	dst.mu.Lock()
	dst.pending[key] = ch
	dst.mu.Unlock()
	defer func() { dst.mu.Lock(); delete(dst.pending, key); dst.mu.Unlock() }()
	if err := dst.send(f, true); err != nil {
		c.reply(m, 480, "Temporarily Unavailable", true)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case r := <-ch:
		c.reply(m, r.Code, r.Reason, true)
	case <-ctx.Done():
		c.reply(m, 408, "Request Timeout", true, "Warning", warn(target+" did not answer"))
	}
}

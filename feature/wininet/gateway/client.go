package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ServerKind is the MSNP server a session goes to.
type ServerKind string

// Server kinds for Action=open. Auto decides from the first command, as
// an MSNP server does: VER opens a notification session, USR or ANS a
// switchboard session.
const (
	NS   ServerKind = "NS"
	SB   ServerKind = "SB"
	Auto ServerKind = ""
)

// kindOf returns the server kind the first command of a session implies.
func kindOf(first []byte) (ServerKind, error) {
	cmd, _, _ := bytes.Cut(first, []byte(" "))
	switch string(cmd) {
	case "VER":
		return NS, nil
	case "USR", "ANS":
		return SB, nil
	}
	return "", fmt.Errorf("gateway: cannot tell NS from SB by the first command %q: want VER, USR or ANS", trunc(first))
}

func trunc(b []byte) string {
	if len(b) > 20 {
		return string(b[:20]) + "..."
	}
	return string(b)
}

// DefaultPollInterval is how often the official client polls.
const DefaultPollInterval = 2 * time.Second

// Dialer opens gateway sessions.
type Dialer struct {
	// Client sends the requests; use wininet.NewClient so it goes through
	// the device's HTTP proxy. http.DefaultClient when nil.
	Client *http.Client
	// URL is the gateway, e.g. http://gateway.messenger.hotmail.com/gateway/gateway.dll.
	URL string
	// PollInterval is the time between polls when idle; DefaultPollInterval
	// when zero.
	PollInterval time.Duration
	// IgnoreGatewayIP keeps every request on URL's host instead of moving
	// to the GW-IP the server names (which the official client follows).
	IgnoreGatewayIP bool
	// RequestTimeout bounds one request; 60 s when zero.
	RequestTimeout time.Duration
}

// ErrClosed is returned by Read after the server ended the session.
var ErrClosed = errors.New("gateway: session closed by server")

// Dial returns a Conn for an NS or SB session to addr (host or
// host:port). No request is sent until the first Write: the first command
// (VER for NS, USR or ANS for SB) is the body of the open request.
func (d *Dialer) Dial(ctx context.Context, kind ServerKind, addr string) (*Conn, error) {
	if kind != NS && kind != SB && kind != Auto {
		return nil, fmt.Errorf("gateway: server kind %q: want NS, SB or Auto", kind)
	}
	base, err := url.Parse(d.URL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("gateway: URL %q: want http://host[:port]%s", d.URL, Path)
	}
	if base.Path == "" {
		base.Path = Path
	}
	ip := addr
	if h, p, err := net.SplitHostPort(addr); err == nil && p == DefaultPort {
		ip = h
	}
	c := &Conn{
		d:       d,
		client:  d.Client,
		base:    base,
		kind:    kind,
		ip:      ip,
		changed: make(chan struct{}),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if c.client == nil {
		c.client = http.DefaultClient
	}
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go c.loop()
	return c, nil
}

// DialFunc adapts the Dialer to a dial function for one server kind.
func (d *Dialer) DialFunc(kind ServerKind) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.Dial(ctx, kind, addr)
	}
}

// DialContext opens a session whose kind (NS or SB) is taken from the
// first command written, so one dial function serves both, like net.Dial.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.Dial(ctx, Auto, addr)
}

// Conn is an MSNP session carried over the HTTP gateway. Write queues
// commands; they are sent with the next request. Read returns the bytes
// of the responses. At most one request is outstanding; when nothing is
// queued the Conn polls every PollInterval.
type Conn struct {
	d      *Dialer
	client *http.Client
	base   *url.URL
	kind   ServerKind
	ip     string
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{}

	mu        sync.Mutex
	outbox    []byte
	inbox     []byte
	err       error // terminal: returned by Read once inbox is empty
	closed    bool
	sessionID string
	gwHost    string
	rdl       time.Time
	changed   chan struct{}
	// Requests counts HTTP requests sent (for tests and benchmarks).
	requests int
}

func (c *Conn) broadcast() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Write queues p for the next request. It never blocks on the network.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	if c.err != nil {
		return 0, c.err
	}
	c.outbox = append(c.outbox, p...)
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Read reads response bytes, waiting for the next response if needed.
func (c *Conn) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		if len(c.inbox) > 0 {
			n := copy(p, c.inbox)
			c.inbox = c.inbox[n:]
			c.mu.Unlock()
			return n, nil
		}
		if c.closed {
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return 0, err
		}
		ch, dl := c.changed, c.rdl
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			wait := time.Until(dl)
			if wait <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// Close stops polling and fails further Reads and Writes. The server
// drops the session when it is no longer polled (or the MSNP OUT command
// sent before Close ends it at once).
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.broadcast()
	c.mu.Unlock()
	c.cancel()
	<-c.done
	return nil
}

// Requests returns how many HTTP requests the Conn has sent.
func (c *Conn) Requests() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requests
}

// SessionID returns the current session id ("" before the open request).
func (c *Conn) SessionID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}

// Addr is a gateway session address.
type Addr struct {
	Kind ServerKind
	Host string
}

func (a Addr) Network() string { return "msn-gateway" }
func (a Addr) String() string  { return string(a.Kind) + "@" + a.Host }

// LocalAddr returns the gateway address.
func (c *Conn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Addr{Kind: c.kind, Host: c.base.Host}
}

// RemoteAddr returns the server behind the gateway.
func (c *Conn) RemoteAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Addr{Kind: c.kind, Host: c.ip}
}

// SetDeadline sets the read deadline; writes never block.
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline sets the deadline for Read.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.rdl = t
	c.broadcast()
	c.mu.Unlock()
	return nil
}

// SetWriteDeadline is accepted and ignored: Write only queues.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }

var _ net.Conn = (*Conn)(nil)

func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.broadcast()
	c.mu.Unlock()
}

func (c *Conn) loop() {
	defer close(c.done)
	poll := c.d.PollInterval
	if poll <= 0 {
		poll = DefaultPollInterval
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	opened := false
	for {
		// Wait for queued commands, or (once open) the poll timer.
		c.mu.Lock()
		pending := len(c.outbox) > 0
		c.mu.Unlock()
		if !pending {
			select {
			case <-c.ctx.Done():
				return
			case <-c.wake:
			case <-timer.C:
			}
		}
		c.mu.Lock()
		body := c.outbox
		c.outbox = nil
		select {
		case <-c.wake: // this request carries what the token announced
		default:
		}
		c.mu.Unlock()
		if !opened && len(body) == 0 {
			continue // nothing to open with yet
		}
		err := c.roundTrip(!opened, body)
		if err != nil {
			if c.ctx.Err() == nil {
				c.fail(err)
			}
			return
		}
		opened = true
		c.mu.Lock()
		stop := c.err != nil
		c.mu.Unlock()
		if stop {
			return
		}
		timer.Reset(poll)
	}
}

// roundTrip sends one request and files the response.
func (c *Conn) roundTrip(open bool, body []byte) error {
	u := *c.base
	c.mu.Lock()
	sid, gw := c.sessionID, c.gwHost
	c.requests++
	c.mu.Unlock()
	op := "send"
	switch {
	case open:
		op = "open"
		if c.kind == Auto {
			k, err := kindOf(body)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.kind = k
			c.mu.Unlock()
		}
		u.RawQuery = "Action=open&Server=" + string(c.kind) + "&IP=" + url.QueryEscape(c.ip)
	case len(body) == 0:
		op = "poll"
		u.RawQuery = "Action=poll&SessionID=" + url.QueryEscape(sid)
	default:
		u.RawQuery = "SessionID=" + url.QueryEscape(sid)
	}
	if gw != "" && !c.d.IgnoreGatewayIP {
		u.Host = gw
	}
	to := c.d.RequestTimeout
	if to <= 0 {
		to = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(c.ctx, to)
	defer cancel()
	resp, err := c.post(ctx, u.String(), body)
	if err != nil {
		return fmt.Errorf("gateway: %s %s session: %w", op, c.kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Proxies often hang up right after a refusal: the text is a bonus.
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("gateway: %s %s session: %s answered %s: %s (check the gateway URL and that the proxy allows it)",
			op, c.kind, u.Host, resp.Status, strings.Join(strings.Fields(string(msg)), " "))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("gateway: %s: read response: %w", op, err)
	}
	h, err := ParseHeader(resp.Header.Get(HeaderName))
	if err != nil {
		return fmt.Errorf("gateway: %s: %w (is %s an MSN gateway?)", op, err, c.base.Host)
	}
	host, err := nextHost(c.base, h.GatewayIP)
	if err != nil {
		return fmt.Errorf("gateway: %s: %w", op, err)
	}
	if c.kind == SB && isServerAddr(h.GatewayIP, c.ip) {
		// Some gateways echo the switchboard address of IP= as GW-IP. It
		// names the gateway host to use next, not a port to post to: the
		// gateway's port stays the one of the gateway URL.
		gh, _, _ := net.SplitHostPort(host)
		if host, err = nextHost(c.base, gh); err != nil {
			return fmt.Errorf("gateway: %s: %w", op, err)
		}
	}
	c.mu.Lock()
	if h.SessionID != "" {
		c.sessionID = h.SessionID
	}
	c.gwHost = host
	c.inbox = append(c.inbox, data...)
	if h.Closed && c.err == nil {
		c.err = io.EOF
	}
	c.broadcast()
	c.mu.Unlock()
	return nil
}

// post sends one request. A request that fails on a reused keep-alive
// connection before any response is sent once more on a new connection:
// proxies such as tinyproxy close idle client connections without notice.
func (c *Conn) post(ctx context.Context, u string, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "*/*")
		req.Header.Set("User-Agent", "MSMSGS")
		req.Header.Set("Content-Type", ContentType)
		req.Header.Set("Pragma", "no-cache")
		req.Header.Set("Proxy-Connection", "Keep-Alive")
		resp, err := c.client.Do(req)
		if err == nil || !reused || attempt > 0 || ctx.Err() != nil {
			return resp, err
		}
	}
}

// nextHost turns GW-IP into the host:port for the next request. A GW-IP
// without a port keeps the gateway URL's port.
func nextHost(base *url.URL, gw string) (string, error) {
	if gw == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(gw)
	if err != nil {
		host, port = strings.Trim(gw, "[]"), base.Port()
	}
	if _, err := netip.ParseAddr(host); err != nil && !validName(host) {
		return "", fmt.Errorf("bad GW-IP %q", gw)
	}
	if port == "" {
		if strings.Contains(host, ":") {
			return "[" + host + "]", nil
		}
		return host, nil
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("bad GW-IP port %q", gw)
	}
	return net.JoinHostPort(host, port), nil
}

// isServerAddr reports whether GW-IP gw names the MSNP server address ip
// (the IP= of the open request, whose port defaults to 1863) rather than a
// gateway.
func isServerAddr(gw, ip string) bool {
	if _, _, err := net.SplitHostPort(gw); err != nil || ip == "" {
		return false
	}
	if _, _, err := net.SplitHostPort(ip); err != nil {
		ip = net.JoinHostPort(strings.Trim(ip, "[]"), DefaultPort)
	}
	return strings.EqualFold(gw, ip)
}

func validName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

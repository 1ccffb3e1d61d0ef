// Package proxy dials TCP connections through the proxies a device user can
// choose under Options > Connection: SOCKS5 (RFC 1928, with RFC 1929
// username/password authentication), SOCKS4 and SOCKS4a, and HTTP CONNECT.
//
// A proxy is named by a URL:
//
//	socks5://user:pass@host:port
//	socks4://user@host:port     (names resolved on the device)
//	socks4a://user@host:port    (names resolved by the proxy)
//	http://user:pass@host:port  (CONNECT)
//
// Every failure is an *Error that says which step failed and wraps one of the
// sentinel errors (ErrProxyDown, ErrAuth, ErrNotAllowed, ErrDestination,
// ErrProtocol) so callers can branch with errors.Is.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Kind is the proxy protocol.
type Kind string

// The proxy kinds a URL scheme can name.
const (
	SOCKS5  Kind = "socks5"
	SOCKS4  Kind = "socks4"
	SOCKS4A Kind = "socks4a"
	HTTP    Kind = "http"
)

// Sentinel errors wrapped by *Error; test with errors.Is.
var (
	// ErrProxyDown: the proxy itself could not be reached.
	ErrProxyDown = errors.New("proxy unreachable")
	// ErrAuth: the proxy wants credentials, or refused the ones given.
	ErrAuth = errors.New("proxy authentication failed")
	// ErrNotAllowed: the proxy's rules refuse this destination.
	ErrNotAllowed = errors.New("proxy refused the destination")
	// ErrDestination: the proxy could not connect to the destination.
	ErrDestination = errors.New("destination unreachable through proxy")
	// ErrProtocol: the proxy answered with something this client cannot parse.
	ErrProtocol = errors.New("proxy protocol error")
)

// Error is a failed dial through a proxy.
type Error struct {
	Kind  Kind   // proxy protocol
	Proxy string // proxy host:port
	Addr  string // destination host:port
	Op    string // "connect", "auth", "request", "reply"
	// Reason is one of the sentinel errors.
	Reason error
	// Err is the underlying cause, may be nil.
	Err error
	// Hint tells the user what to do next.
	Hint string
	// also is a second sentinel, for SOCKS4 replies that mean either.
	also error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proxy: %s %s: %s to %s: %v", e.Kind, e.Proxy, e.Op, e.Addr, e.Reason)
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

// Unwrap returns the sentinel reason and the cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Reason}
	if e.also != nil {
		errs = append(errs, e.also)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// ContextDialer is what the proxy dialer uses to reach the proxy.
type ContextDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dialer connects to destinations through one proxy.
type Dialer struct {
	Kind     Kind
	Addr     string // proxy host:port
	User     string
	Password string
	// Forward reaches the proxy; a *net.Dialer when nil.
	Forward ContextDialer
	// HandshakeTimeout bounds the proxy handshake; 30 s when zero.
	HandshakeTimeout time.Duration
	// LookupIP resolves names for SOCKS4 (not 4a); net.DefaultResolver when nil.
	LookupIP func(ctx context.Context, network, host string) ([]net.IP, error)
}

// Option changes a Dialer made by New.
type Option func(*Dialer) error

// WithForward sets the dialer used to reach the proxy.
func WithForward(f ContextDialer) Option {
	return func(d *Dialer) error { d.Forward = f; return nil }
}

// WithHandshakeTimeout bounds the proxy handshake.
func WithHandshakeTimeout(t time.Duration) Option {
	return func(d *Dialer) error { d.HandshakeTimeout = t; return nil }
}

// WithLookupIP sets the resolver used for SOCKS4 destinations.
func WithLookupIP(f func(ctx context.Context, network, host string) ([]net.IP, error)) Option {
	return func(d *Dialer) error { d.LookupIP = f; return nil }
}

// defaultPorts per scheme when the URL names none.
var defaultPorts = map[Kind]string{SOCKS5: "1080", SOCKS4: "1080", SOCKS4A: "1080", HTTP: "8080"}

// New returns a Dialer for a proxy URL such as socks5://user:pass@host:1080.
func New(rawURL string, opts ...Option) (*Dialer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL with the password
		}
		return nil, fmt.Errorf("proxy: parse %q: %w (use scheme://[user[:password]@]host:port)", redact(rawURL), err)
	}
	d, err := FromURL(u)
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// FromURL returns a Dialer for a parsed proxy URL.
func FromURL(u *url.URL) (*Dialer, error) {
	k := Kind(strings.ToLower(u.Scheme))
	if _, ok := defaultPorts[k]; !ok {
		return nil, fmt.Errorf("proxy: unknown scheme %q: use socks5, socks4, socks4a or http", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("proxy: %s URL has no host: use %s://host:port", k, k)
	}
	port := u.Port()
	if port == "" {
		port = defaultPorts[k]
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("proxy: bad port %q: use a number from 1 to 65535", port)
	}
	d := &Dialer{Kind: k, Addr: net.JoinHostPort(host, port)}
	if u.User != nil {
		d.User = u.User.Username()
		d.Password, _ = u.User.Password()
	}
	if k == SOCKS5 && (len(d.User) > 255 || len(d.Password) > 255) {
		return nil, fmt.Errorf("proxy: socks5 user name and password must be at most 255 bytes each (RFC 1929)")
	}
	return d, nil
}

// String returns the proxy URL without its password.
func (d *Dialer) String() string {
	u := url.URL{Scheme: string(d.Kind), Host: d.Addr}
	if d.User != "" {
		u.User = url.User(d.User)
	}
	return u.String()
}

// Dial connects to addr through the proxy.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects to addr (host:port) through the proxy. Only "tcp",
// "tcp4" and "tcp6" are supported.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("proxy: %s %s: network %q not supported: proxies carry TCP only", d.Kind, d.Addr, network)
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("proxy: destination %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("proxy: destination %q: bad port", addr)
	}
	fwd := d.Forward
	if fwd == nil {
		fwd = &net.Dialer{}
	}
	conn, err := fwd.DialContext(ctx, "tcp", d.Addr)
	if err != nil {
		return nil, d.fail(addr, "connect", ErrProxyDown, err, "check the proxy server and port under Options > Connection, and that the proxy is running")
	}
	to := d.HandshakeTimeout
	if to <= 0 {
		to = 30 * time.Second
	}
	deadline := time.Now().Add(to)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	// Abort the handshake when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	var out net.Conn = conn
	switch d.Kind {
	case SOCKS5:
		err = d.socks5(conn, host, port, addr)
	case SOCKS4, SOCKS4A:
		err = d.socks4(ctx, conn, host, port, addr)
	case HTTP:
		out, err = d.connect(conn, addr)
	}
	if !stop() && err != nil && ctx.Err() != nil {
		err = d.fail(addr, "handshake", ErrProxyDown, ctx.Err(), "")
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return out, nil
}

func (d *Dialer) fail(addr, op string, reason, cause error, hint string) *Error {
	return &Error{Kind: d.Kind, Proxy: d.Addr, Addr: addr, Op: op, Reason: reason, Err: cause, Hint: hint}
}

// ioFail classifies an I/O error during the handshake.
func (d *Dialer) ioFail(addr, op string, err error) *Error {
	return d.fail(addr, op, ErrProtocol, err, "the proxy closed the connection or did not answer; check that it speaks "+string(d.Kind))
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			return "***" + raw[i:]
		}
		return raw
	}
	u.User = url.User(u.User.Username())
	return u.String()
}

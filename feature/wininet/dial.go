package wininet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/oemkit/messenger/feature/wininet/proxy"
)

// KeepAlive is the TCP keepalive set on every service connection.
type KeepAlive struct {
	Idle     time.Duration // idle time before the first probe
	Interval time.Duration // between probes
	Count    int           // unanswered probes before the connection is dropped
	// UserTimeout drops a connection whose sent data stays unacknowledged
	// this long (TCP_USER_TIMEOUT, Linux); zero means the kernel default.
	UserTimeout time.Duration
}

// DefaultKeepAlive detects a half-open connection within 60 s: 30 s idle,
// then 3 probes 10 s apart; data unacknowledged for 60 s also drops it.
var DefaultKeepAlive = KeepAlive{Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3, UserTimeout: 60 * time.Second}

// Bound is the longest a dead peer goes unnoticed on an idle connection.
func (k KeepAlive) Bound() time.Duration {
	return k.Idle + time.Duration(k.Count)*k.Interval
}

// Dialer opens the device's TCP connections (NS, SB, HTTP): by name through
// the Resolver, directly or through the configured proxy, with keepalive.
// Failures are *HopError values.
type Dialer struct {
	resolver *Resolver
	net      *net.Dialer
	proxy    *proxy.Dialer // nil: direct
}

// NewDialer returns the Dialer for cfg. An http:// proxy is used with
// CONNECT; msmsgs uses the HTTP gateway instead where CONNECT is refused.
func NewDialer(cfg Config) (*Dialer, error) {
	cfg = cfg.withDefaults()
	ka := cfg.KeepAlive
	d := &Dialer{
		resolver: cfg.Resolver,
		net: &net.Dialer{
			Timeout: cfg.DialTimeout,
			KeepAliveConfig: net.KeepAliveConfig{
				Enable: true, Idle: ka.Idle, Interval: ka.Interval, Count: ka.Count,
			},
			Control: userTimeoutControl(ka.UserTimeout),
		},
	}
	if cfg.Proxy != "" {
		p, err := proxy.New(cfg.Proxy,
			proxy.WithForward(directDialer{d}),
			proxy.WithHandshakeTimeout(cfg.DialTimeout),
			proxy.WithLookupIP(d.lookupIP))
		if err != nil {
			return nil, fmt.Errorf("wininet: %w", err)
		}
		d.proxy = p
	}
	return d, nil
}

// Proxy returns the proxy dialer, or nil when connections are direct.
func (d *Dialer) Proxy() *proxy.Dialer { return d.proxy }

// Dial is DialContext without a context.
func (d *Dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

// DialContext connects to addr (host:port), through the proxy if one is set.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.proxy == nil {
		return d.direct(ctx, network, addr)
	}
	c, err := d.proxy.DialContext(ctx, network, addr)
	if err != nil {
		return nil, Classify(err)
	}
	return c, nil
}

// directDialer lets the proxy package reach the proxy through the resolver.
type directDialer struct{ d *Dialer }

func (x directDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := x.d.direct(ctx, network, addr)
	var he *HopError
	if errors.As(err, &he) {
		return nil, he.Err // proxy.Error adds the context
	}
	return c, err
}

func (d *Dialer) lookupIP(ctx context.Context, network, host string) ([]net.IP, error) {
	addrs, err := d.resolver.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var out []net.IP
	for _, a := range addrs {
		if network == "ip4" && !a.Is4() {
			continue
		}
		out = append(out, a.AsSlice())
	}
	return out, nil
}

func (d *Dialer) direct(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("wininet: dial %q: %w", addr, err)
	}
	addrs, err := d.resolver.LookupHost(ctx, host)
	if err != nil {
		return nil, &HopError{Hop: HopDNS, Addr: host, Err: err}
	}
	var errs []error
	for _, a := range addrs {
		if (network == "tcp4" && !a.Is4()) || (network == "tcp6" && !a.Is6()) {
			continue
		}
		ip := netip.AddrPortFrom(a, 0).Addr().String()
		c, err := d.net.DialContext(ctx, network, net.JoinHostPort(ip, port))
		if err == nil {
			return c, nil
		}
		errs = append(errs, dialDetail(err, ip, len(addrs) > 1))
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no %s address for %q", network, host))
	}
	return nil, &HopError{Hop: HopConnect, Addr: addr, Err: fmt.Errorf("connect to %s: %w", addr, errors.Join(errs...)),
		Hint: "is the server running, and is its port open in the firewall?"}
}

// dialDetail keeps a dial error's chain but says the address once: the
// HopError already names it, so net.OpError's "dial tcp ADDR:" prefix goes;
// with several addresses for one name, each failure names its IP.
func dialDetail(err error, ip string, many bool) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Err == nil {
		return err
	}
	return &dialErr{op: op, ip: ip, many: many}
}

type dialErr struct {
	op   *net.OpError
	ip   string
	many bool
}

func (e *dialErr) Error() string {
	if e.many {
		return e.ip + ": " + e.op.Err.Error()
	}
	return e.op.Err.Error()
}

func (e *dialErr) Unwrap() error { return e.op }

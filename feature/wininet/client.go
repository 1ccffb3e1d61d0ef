// Package wininet is the device's Internet layer, the "Windows Internet
// Services" catalog item: the HTTP client every program on the device uses
// (Passport login, later the browser host) and the dialer msmsgs uses for
// notification and switchboard connections.
//
// Both go through the user's proxy (SOCKS5, SOCKS4/4a or HTTP, see package
// proxy), resolve names with the DNS servers of the DHCP lease (Resolver),
// trust only the device certificate store (package certs), and set TCP
// keepalive (DefaultKeepAlive) on every connection. Failures are *HopError
// values that say which hop failed (HopDNS, HopProxy, HopConnect, HopTLS,
// HopServer) and wrap the matching sentinel (ErrDNS, ...) for errors.Is.
//
// MSNDialer is what msmsgs dials notification and switchboard servers
// with: direct, SOCKS, or through an HTTP proxy by CONNECT or, where the
// proxy refuses that, the MSN HTTP gateway protocol (package gateway).
// File transfer and voice stay direct, as in the original.
//
// A half-open connection is noticed within DefaultKeepAlive.Bound() (60 s)
// when idle, and within 60 s of unacknowledged data (TCP_USER_TIMEOUT);
// msmsgs's own PNG/QNG covers the hops beyond a proxy.
package wininet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet/proxy"
)

// Config is the device's connection settings (Options > Connection).
type Config struct {
	// Proxy is empty for direct connections, or a proxy URL:
	// socks5://user:pass@host:port, socks4://user@host:port,
	// socks4a://..., http://user:pass@host:port.
	Proxy string
	// Certs is the trust store; when nil, certs.DefaultRootDir is loaded.
	Certs *certs.Store
	// Resolver looks names up; the DHCP lease's servers when nil.
	Resolver *Resolver
	// DialTimeout bounds connecting, including the proxy handshake; 15 s
	// when zero.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake; 15 s when zero.
	TLSHandshakeTimeout time.Duration
	// Timeout bounds a whole HTTP request, body included; 60 s when zero,
	// none when negative.
	Timeout time.Duration
	// MaxRedirects is the redirect limit; 10 when zero, none followed
	// when negative.
	MaxRedirects int
	// Cookies gives the client a cookie jar.
	Cookies bool
	// KeepAlive is the TCP keepalive; DefaultKeepAlive when zero.
	KeepAlive KeepAlive
	// UserAgent is sent when a request has none.
	UserAgent string
}

func (c Config) withDefaults() Config {
	if c.Resolver == nil {
		c.Resolver = &Resolver{}
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 15 * time.Second
	}
	if c.TLSHandshakeTimeout == 0 {
		c.TLSHandshakeTimeout = 15 * time.Second
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = 10
	}
	if c.KeepAlive == (KeepAlive{}) {
		c.KeepAlive = DefaultKeepAlive
	}
	return c
}

// ErrTooManyRedirects is wrapped when a request exceeds MaxRedirects.
var ErrTooManyRedirects = errors.New("too many redirects")

// NewClient returns the device HTTP client for cfg. Its errors are
// *HopError values (see Classify); check responses with CheckStatus.
func NewClient(cfg Config) (*http.Client, error) {
	cfg = cfg.withDefaults()
	store := cfg.Certs
	if store == nil {
		var err error
		store, err = certs.Load(certs.Config{RootDir: certs.DefaultRootDir})
		if err != nil {
			return nil, fmt.Errorf("wininet: %w", err)
		}
	}
	d, err := NewDialer(cfg)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   cfg.TLSHandshakeTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		TLSClientConfig:       store.TLSConfig(""),
	}
	// HTTPS always goes through DialTLSContext: a tunnel (direct, SOCKS or
	// CONNECT) and then TLS verified against the store, so every failure
	// names its hop. Plain HTTP through an HTTP proxy is forwarded.
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		tc := tls.Client(raw, store.TLSConfig(host))
		hctx, cancel := context.WithTimeout(ctx, cfg.TLSHandshakeTimeout)
		defer cancel()
		if err := tc.HandshakeContext(hctx); err != nil {
			raw.Close()
			return nil, &HopError{Hop: HopTLS, Addr: addr, Err: err, Hint: tlsHint(err)}
		}
		return tc, nil
	}
	if p := d.Proxy(); p != nil && p.Kind == proxy.HTTP {
		pu, _ := url.Parse(cfg.Proxy)
		tr.Proxy = func(r *http.Request) (*url.URL, error) {
			if r.URL.Scheme == "http" {
				return pu, nil
			}
			return nil, nil
		}
		// Reaching the proxy for forwarded requests is a direct dial.
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.direct(ctx, network, addr)
			if err != nil {
				var he *HopError
				if errors.As(err, &he) && he.Hop == HopConnect {
					err = he.Err
				}
				return nil, &HopError{Hop: HopProxy, Addr: addr, Err: fmt.Errorf("http proxy %s: %w: %w", addr, proxy.ErrProxyDown, err), Hint: "check the proxy server and port under Options > Connection, and that the proxy is running"}
			}
			return c, nil
		}
	}
	cl := &classifier{rt: tr, ua: cfg.UserAgent}
	if tr.Proxy != nil {
		cl.proxied = func(r *http.Request) bool { return r.URL.Scheme == "http" }
	}
	c := &http.Client{Transport: cl}
	if cfg.Timeout > 0 {
		c.Timeout = cfg.Timeout
	}
	max := cfg.MaxRedirects
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if max < 0 {
			return http.ErrUseLastResponse
		}
		if len(via) > max {
			return &HopError{Hop: HopServer, Addr: redactURL(req.URL), Err: fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, max), Hint: "the server redirects in a loop"}
		}
		return nil
	}
	if cfg.Cookies {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, fmt.Errorf("wininet: cookie jar: %w", err)
		}
		c.Jar = jar
	}
	return c, nil
}

func tlsHint(err error) string {
	var ve *certs.VerifyError
	if errors.As(err, &ve) {
		return ""
	}
	if strings.Contains(err.Error(), "first record does not look like a TLS handshake") {
		return "the server does not speak TLS on this port"
	}
	return "the TLS handshake failed"
}

// classifier turns transport errors into *HopError and sets the User-Agent.
type classifier struct {
	rt      http.RoundTripper
	ua      string
	proxied func(*http.Request) bool // request forwarded by an HTTP proxy
}

func (c *classifier) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.ua != "" && r.Header.Get("User-Agent") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.rt.RoundTrip(r)
	if err != nil {
		return nil, Classify(err)
	}
	if c.proxied != nil && c.proxied(r) && proxyAuthFailed(resp) {
		resp.Body.Close()
		se := &StatusError{URL: redactURL(r.URL), Code: resp.StatusCode, Status: resp.Status}
		return nil, &HopError{Hop: HopProxy, Addr: se.URL, Err: fmt.Errorf("http proxy refused the user name and password: %w: %w", proxy.ErrAuth, se),
			Hint: "check the proxy user name and password under Options > Connection"}
	}
	return resp, nil
}

// proxyAuthFailed reports whether a forwarded response is the proxy's own
// authentication failure: 407, a 401 with Proxy-Authenticate, or
// tinyproxy's 401 (it answers 401 and WWW-Authenticate where RFC 9110 says 407).
func proxyAuthFailed(resp *http.Response) bool {
	switch {
	case resp.StatusCode == http.StatusProxyAuthRequired:
		return true
	case resp.StatusCode != http.StatusUnauthorized:
		return false
	case resp.Header.Get("Proxy-Authenticate") != "":
		return true
	}
	return strings.HasPrefix(resp.Header.Get("Server"), "tinyproxy/") &&
		strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="Tinyproxy"`)
}

// CloseIdleConnections closes idle connections of the underlying transport.
func (c *classifier) CloseIdleConnections() {
	if ci, ok := c.rt.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

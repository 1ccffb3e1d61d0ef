package wininet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/feature/wininet/proxy"
)

// HTTP proxy modes for notification and switchboard connections.
const (
	// ModeAuto tries CONNECT and falls back to the HTTP gateway when the
	// proxy refuses CONNECT to the server (and remembers that).
	ModeAuto = "auto"
	// ModeConnect only uses CONNECT.
	ModeConnect = "connect"
	// ModeGateway only uses the HTTP gateway, as the official client does.
	ModeGateway = "gateway"
)

// MSNOptions configure NewMSNDialer.
type MSNOptions struct {
	// HTTPProxyMode is ModeAuto (default), ModeConnect or ModeGateway; it
	// matters only with an http:// proxy.
	HTTPProxyMode string
	// GatewayURL is the gateway, e.g. http://gateway.lab:8080/gateway/gateway.dll;
	// when empty, http://<host dialled>/gateway/gateway.dll.
	GatewayURL string
	// PollInterval is the gateway poll period; gateway.DefaultPollInterval
	// when zero.
	PollInterval time.Duration
}

// MSNDialer connects msmsgs to notification and switchboard servers the
// way Options > Connection says: directly, through SOCKS, or through an
// HTTP proxy by CONNECT or the MSN HTTP gateway. File transfer and voice do
// not use it: they stay direct, as in the original.
type MSNDialer struct {
	tcp    *Dialer
	client *http.Client
	opts   MSNOptions
	useGW  atomic.Bool // ModeAuto found CONNECT refused
	isHTTP bool
}

// NewMSNDialer returns the NS/SB dialer for cfg.
func NewMSNDialer(cfg Config, o MSNOptions) (*MSNDialer, error) {
	switch o.HTTPProxyMode {
	case "":
		o.HTTPProxyMode = ModeAuto
	case ModeAuto, ModeConnect, ModeGateway:
	default:
		return nil, fmt.Errorf("wininet: HTTP proxy mode %q: use auto, connect or gateway", o.HTTPProxyMode)
	}
	if o.GatewayURL != "" {
		u, err := url.Parse(o.GatewayURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("wininet: gateway URL %q: use http://host[:port]%s", o.GatewayURL, gateway.Path)
		}
	}
	d, err := NewDialer(cfg)
	if err != nil {
		return nil, err
	}
	m := &MSNDialer{tcp: d, opts: o, isHTTP: d.Proxy() != nil && d.Proxy().Kind == proxy.HTTP}
	if m.isHTTP {
		if m.client, err = NewClient(cfg); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Mode returns how the next connection will be made: "direct", "socks",
// "connect" or "gateway".
func (m *MSNDialer) Mode() string {
	switch {
	case m.tcp.Proxy() == nil:
		return "direct"
	case !m.isHTTP:
		return "socks"
	case m.opts.HTTPProxyMode == ModeGateway || m.useGW.Load():
		return "gateway"
	}
	return "connect"
}

// DialContext connects to an NS or SB at addr (host:port). Through the
// gateway, the session kind comes from the first command written.
func (m *MSNDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if m.Mode() != "gateway" {
		c, err := m.tcp.DialContext(ctx, network, addr)
		if err == nil || !m.isHTTP || m.opts.HTTPProxyMode != ModeAuto || !errors.Is(err, proxy.ErrNotAllowed) {
			return c, err
		}
		// The proxy refuses CONNECT here: use the gateway from now on.
		m.useGW.Store(true)
	}
	gw := m.opts.GatewayURL
	if gw == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("wininet: dial %q: %w", addr, err)
		}
		gw = "http://" + net.JoinHostPort(host, "80") + gateway.Path
	}
	gd := &gateway.Dialer{Client: m.client, URL: gw, PollInterval: m.opts.PollInterval}
	return gd.DialContext(ctx, network, addr)
}

package rtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// DefaultPort is the SIP port of the RTC Client API (caller and callee).
const DefaultPort = 6901

// Sentinel errors callers branch on; they are wrapped with detail.
var (
	ErrBusy        = errors.New("rtc: callee is busy")
	ErrRejected    = errors.New("rtc: call rejected")
	ErrNoAnswer    = errors.New("rtc: no answer before the call timeout")
	ErrNotAccepted = errors.New("rtc: callee accepts none of our codecs")
	ErrClosed      = errors.New("rtc: phone closed")
	// ErrGlare is a 491 Request Pending: the peer is placing its own
	// INVITE to us at the same time.
	ErrGlare = errors.New("rtc: the peer is calling us at the same time (491 Request Pending)")
)

// Config configures a Phone. The zero value is usable: it listens on
// 0.0.0.0:6901 over UDP and TCP and offers PCMU, PCMA and telephone-event.
type Config struct {
	// User is the user part of our SIP URI; default "rtc".
	User string
	// ListenAddr is the SIP listen address; default "0.0.0.0:6901". Port 0
	// picks a free port (see Phone.Port).
	ListenAddr string
	// Transports lists "udp" and/or "tcp"; default both.
	Transports []string
	// AdvertiseIP is the address put in Contact and SDP. Default: the listen
	// IP, or, when listening on all addresses, the local address that routes
	// to the peer.
	AdvertiseIP string
	// MediaPorts is the UDP range for RTP/RTCP; default media.DefaultPorts.
	MediaPorts media.PortRange
	// Codecs in preference order: "PCMU", "PCMA", "telephone-event".
	Codecs []string
	// Jitter bounds the jitter buffer.
	Jitter media.JitterConfig
	// InviteTimeout bounds how long Dial waits for a final answer before it
	// cancels; default 30 s.
	InviteTimeout time.Duration
	// RingTimeout bounds how long an incoming call rings before it is
	// answered 480; default 30 s.
	RingTimeout time.Duration
	// MediaTimeout hangs up a call that received no RTP for this long;
	// default 30 s, negative disables.
	MediaTimeout time.Duration
	// MaxCalls is the number of simultaneous calls; more are answered
	// 486 Busy Here. Default 4.
	MaxCalls int
	// OnIncoming decides about an incoming call: call Answer or Reject on
	// it. It runs on its own goroutine. If it returns without deciding, the
	// call rings until RingTimeout. Nil answers every call with silence.
	OnIncoming func(*Incoming)
	// OnRefused is told about every incoming INVITE the phone answered
	// with an error itself, before any OnIncoming (no common codec, busy,
	// malformed), so the callee can report a refused call instead of
	// nothing. It runs on its own goroutine.
	OnRefused func(Refused)
	// Logger receives debug logs; nil discards.
	Logger *slog.Logger
}

// Refused describes an incoming INVITE the phone refused.
type Refused struct {
	From   string // caller's URI ("" if the request had no usable From)
	Source string // where the INVITE came from (ip:port)
	Code   int    // SIP status sent: 488 no common codec, 486 busy, 415, 400
	Reason string // what was wrong, for people
	Err    error  // ErrNotAccepted for codec refusals, ErrBusy when full
}

func (c *Config) setDefaults() error {
	if c.User == "" {
		c.User = "rtc"
	}
	if c.ListenAddr == "" {
		c.ListenAddr = "0.0.0.0:" + strconv.Itoa(DefaultPort)
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{"udp", "tcp"}
	}
	for i, t := range c.Transports {
		t = strings.ToLower(t)
		if t != "udp" && t != "tcp" {
			return fmt.Errorf("rtc: transport %q is not supported; use udp or tcp", t)
		}
		c.Transports[i] = t
	}
	if c.MediaPorts == (media.PortRange{}) {
		c.MediaPorts = media.DefaultPorts
	}
	if err := c.MediaPorts.Validate(); err != nil {
		return fmt.Errorf("rtc: config: %w", err)
	}
	if len(c.Codecs) == 0 {
		c.Codecs = []string{"PCMU", "PCMA", "telephone-event"}
	}
	voice := false
	for _, n := range c.Codecs {
		cd, ok := sdp.CodecByName(n)
		if !ok {
			return fmt.Errorf("rtc: codec %q is not supported; use PCMU, PCMA, telephone-event", n)
		}
		if cd.Name != "telephone-event" {
			voice = true
		}
	}
	if !voice {
		return errors.New("rtc: config: codecs need PCMU or PCMA")
	}
	if c.InviteTimeout == 0 {
		c.InviteTimeout = 30 * time.Second
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = 30 * time.Second
	}
	if c.MediaTimeout == 0 {
		c.MediaTimeout = 30 * time.Second
	}
	if c.MaxCalls == 0 {
		c.MaxCalls = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Phone is a SIP user agent that places and answers voice calls.
type Phone struct {
	cfg      Config
	log      *slog.Logger
	listenIP net.IP
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	ports    map[string]int // transport -> bound port
	udpAddr  sip.Addr       // bound UDP listener address
	closers  []func() error

	mu     sync.Mutex
	calls  map[string]*Call // by dialog key
	closed bool
}

// New validates cfg and builds a phone; call Start to listen.
func New(cfg Config) (*Phone, error) {
	cfg.Transports = append([]string(nil), cfg.Transports...)
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("rtc: listen address %q: %w; use host:port such as 0.0.0.0:6901", cfg.ListenAddr, err)
	}
	ip := net.ParseIP(host)
	if host == "" {
		ip = net.IPv4zero
	}
	if ip == nil {
		return nil, fmt.Errorf("rtc: listen address %q: host must be an IP address", cfg.ListenAddr)
	}
	return &Phone{cfg: cfg, log: cfg.Logger, listenIP: ip, ports: map[string]int{}, calls: map[string]*Call{}}, nil
}

// Start binds the SIP listeners and serves in the background until Close.
func (p *Phone) Start(ctx context.Context) error {
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(p.cfg.User), sipgo.WithUserAgentHostname(p.advertise(nil).String()),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(p.log)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(p.log)))
	if err != nil {
		return fmt.Errorf("rtc: user agent: %w", err)
	}
	p.ua = ua
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(p.log))
	if err != nil {
		ua.Close()
		return fmt.Errorf("rtc: server: %w", err)
	}
	p.srv = srv
	// Handlers and client first: requests may arrive as soon as we listen.
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname(p.advertise(nil).String()), sipgo.WithClientNAT(), sipgo.WithClientLogger(p.log))
	if err != nil {
		p.Close()
		return fmt.Errorf("rtc: client: %w", err)
	}
	p.client = client
	srv.OnInvite(p.onInvite)
	srv.OnAck(p.onAck)
	srv.OnBye(p.onBye)
	srv.OnCancel(func(req *sip.Request, tx sip.ServerTransaction) {
		// The transaction layer answers CANCELs that match a pending INVITE;
		// what reaches us matches nothing.
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		res.AppendHeader(sip.NewHeader("Allow", "INVITE, ACK, BYE, CANCEL, OPTIONS"))
		res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		tx.Respond(res)
	})
	_, portStr, _ := net.SplitHostPort(p.cfg.ListenAddr)
	port, _ := strconv.Atoi(portStr)
	// Bind every transport on the same port. With port 0 the first bind
	// picks it; if another transport's port of that number is taken, try
	// again with a new pick.
	var udpConn net.PacketConn
	var tcpLn net.Listener
	var bindErr error
	for attempt := 0; attempt < 20; attempt++ {
		udpConn, tcpLn, bindErr = p.bind(port)
		if bindErr == nil || port != 0 {
			break
		}
	}
	if bindErr != nil {
		p.Close()
		return bindErr
	}
	if udpConn != nil {
		p.ports["udp"] = udpConn.LocalAddr().(*net.UDPAddr).Port
		p.udpAddr = sip.Addr{IP: udpConn.LocalAddr().(*net.UDPAddr).IP, Port: p.ports["udp"]}
		p.closers = append(p.closers, udpConn.Close)
	}
	if tcpLn != nil {
		p.ports["tcp"] = tcpLn.Addr().(*net.TCPAddr).Port
		p.closers = append(p.closers, tcpLn.Close)
	}
	// Fields are set; from here on handlers may run.
	if udpConn != nil {
		go srv.ServeUDP(udpConn)
	}
	if tcpLn != nil {
		go srv.ServeTCP(tcpLn)
	}
	// Serving starts on goroutines; wait until the UDP listener is in the
	// transport's pool so requests we send leave from it.
	if p.ports["udp"] != 0 {
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := ua.TransportLayer().GetConnection("udp", p.udpAddr.String()); err == nil {
				break
			}
			if time.Now().After(deadline) {
				p.Close()
				return errors.New("rtc: UDP listener did not start within 5 s")
			}
			time.Sleep(time.Millisecond)
		}
	}
	return nil
}

// bind opens the configured transports on one port (0: any free port).
func (p *Phone) bind(port int) (udpConn net.PacketConn, tcpLn net.Listener, err error) {
	fail := func(e error) (net.PacketConn, net.Listener, error) {
		if udpConn != nil {
			udpConn.Close()
		}
		if tcpLn != nil {
			tcpLn.Close()
		}
		return nil, nil, e
	}
	for _, t := range p.cfg.Transports {
		addr := net.JoinHostPort(p.listenIP.String(), strconv.Itoa(port))
		switch t {
		case "udp":
			udpConn, err = net.ListenPacket("udp", addr)
			if err != nil {
				return fail(fmt.Errorf("rtc: listen udp %s: %w; is another SIP phone running? pick another port", addr, err))
			}
			port = udpConn.LocalAddr().(*net.UDPAddr).Port
		case "tcp":
			tcpLn, err = net.Listen("tcp", addr)
			if err != nil {
				return fail(fmt.Errorf("rtc: listen tcp %s: %w; is another SIP phone running? pick another port", addr, err))
			}
			port = tcpLn.Addr().(*net.TCPAddr).Port
		}
	}
	return udpConn, tcpLn, nil
}

// Port returns the bound SIP port of a transport ("udp" or "tcp"), 0 if none.
func (p *Phone) Port(transport string) int { return p.ports[strings.ToLower(transport)] }

// Calls returns the calls in progress.
func (p *Phone) Calls() []*Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		out = append(out, c)
	}
	return out
}

// Close hangs up every call and stops listening.
func (p *Phone) Close() error {
	p.mu.Lock()
	p.closed = true
	calls := make([]*Call, 0, len(p.calls))
	for _, c := range p.calls {
		calls = append(calls, c)
	}
	p.mu.Unlock()
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.Hangup(ctx)
		cancel()
	}
	for _, c := range p.closers {
		c()
	}
	if p.srv != nil {
		p.srv.Close()
	}
	if p.client != nil {
		p.client.Close()
	}
	if p.ua != nil {
		p.ua.Close()
	}
	return nil
}

// advertise returns the IP for Contact and SDP towards peer (may be nil).
func (p *Phone) advertise(peer net.IP) net.IP {
	if p.cfg.AdvertiseIP != "" {
		if ip := net.ParseIP(p.cfg.AdvertiseIP); ip != nil {
			return ip
		}
	}
	if !p.listenIP.IsUnspecified() {
		return p.listenIP
	}
	if peer != nil {
		if c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: peer, Port: 9}); err == nil {
			defer c.Close()
			return c.LocalAddr().(*net.UDPAddr).IP
		}
	}
	return net.IPv4(127, 0, 0, 1)
}

func (p *Phone) contact(ip net.IP, transport string) sip.ContactHeader {
	uri := sip.Uri{Scheme: "sip", User: p.cfg.User, Host: ip.String(), Port: p.ports[transport]}
	if transport == "tcp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", "tcp")
	}
	return sip.ContactHeader{Address: uri}
}

func (p *Phone) dialogUA(ip net.IP, transport string) *sipgo.DialogUA {
	return &sipgo.DialogUA{Client: p.client, ContactHDR: p.contact(ip, transport)}
}

// register adds a call under its dialog key; false if the phone is full.
func (p *Phone) register(c *Call) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if len(p.calls) >= p.cfg.MaxCalls {
		return ErrBusy
	}
	p.calls[c.key] = c
	return nil
}

func (p *Phone) unregister(c *Call) {
	p.mu.Lock()
	if p.calls[c.key] == c {
		delete(p.calls, c.key)
	}
	p.mu.Unlock()
}

func (p *Phone) lookup(req *sip.Request) *Call {
	key, ok := dialogKeyFromRequest(req)
	if !ok {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[key]
}

// dialogKey identifies a dialog from our side: Call-ID, local tag, remote tag.
func dialogKey(callID, localTag, remoteTag string) string {
	return callID + "\x00" + localTag + "\x00" + remoteTag
}

// dialogKeyFromRequest keys an in-dialog request we received: the To tag
// is ours, the From tag the peer's.
func dialogKeyFromRequest(req *sip.Request) (string, bool) {
	cid, from, to := req.CallID(), req.From(), req.To()
	if cid == nil || from == nil || to == nil {
		return "", false
	}
	lt, ok1 := to.Params.Get("tag")
	rt, ok2 := from.Params.Get("tag")
	if !ok1 || !ok2 {
		return "", false
	}
	return dialogKey(string(*cid), lt, rt), true
}

func respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	tx.Respond(res)
}

func (p *Phone) onAck(req *sip.Request, tx sip.ServerTransaction) {
	if c := p.lookup(req); c != nil {
		c.gotAck(req, tx)
	}
}

func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := p.lookup(req)
	if c == nil {
		respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.remoteBye(req, tx)
}

// localMediaIP is where RTP sockets bind.
func (p *Phone) localMediaIP() net.IP { return p.listenIP }

// bindMedia binds an RTP/RTCP port pair; the stream starts later, once the
// peer's address is known.
func (p *Phone) bindMedia() (*net.UDPConn, *net.UDPConn, error) {
	return media.Listen(p.localMediaIP(), p.cfg.MediaPorts)
}

// codecs returns the configured codecs for an offer.
func (p *Phone) offerCodecs() []sdp.Codec {
	var out []sdp.Codec
	for _, n := range p.cfg.Codecs {
		c, _ := sdp.CodecByName(n)
		out = append(out, c)
	}
	return out
}

// CallOptions are the audio ends of a call.
type CallOptions struct {
	Source audio.Source // what we send; nil sends silence
	Sink   audio.Sink   // where received audio plays; nil discards
	// OnDTMF receives the telephone-event digits the peer sends, in order.
	OnDTMF func(digit byte)
	// HangupOnSourceEnd sends BYE when Source returns io.EOF.
	HangupOnSourceEnd bool
	// Transport for Dial: "udp" (default) or "tcp".
	Transport string
}

func itoa(i int) string { return strconv.Itoa(i) }

package rtc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oemkit/messenger/feature/rtc/media"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// LegConfig configures a Leg.
type LegConfig struct {
	// BindIP is where the RTP/RTCP sockets bind (nil: all addresses).
	BindIP net.IP
	// AdvertiseIP is the address put in the SDP; required.
	AdvertiseIP string
	// MediaPorts is the UDP range; default media.DefaultPorts.
	MediaPorts media.PortRange
	// Codecs in preference order; default PCMU, PCMA, telephone-event.
	Codecs []string
	Jitter media.JitterConfig
	// MediaTimeout ends the leg when no RTP arrived for this long (not
	// while the peer holds the call); 0 means 30 s, negative disables.
	MediaTimeout time.Duration
	// CNAME user part; default "rtc".
	User   string
	Logger *slog.Logger
}

// Leg is the media half of a call whose SIP signalling runs elsewhere:
// through a SIP proxy or registrar that forwards INVITE, 200 and ACK
// between the two user agents (a SIP Communications Service account)
// rather than directly between them as Phone does. It binds the RTP/RTCP
// pair, makes the offer or the answer with package sdp, and runs the
// audio with package media straight between the two endpoints.
type Leg struct {
	cfg       LegConfig
	rtp, rtcp *net.UDPConn
	sessID    uint64

	mu     sync.Mutex
	local  *sdp.Session
	choice sdp.Choice
	stream *media.Stream
	held   atomic.Bool

	once   sync.Once
	done   chan struct{}
	reason error
}

// NewLeg checks cfg and binds the media ports.
func NewLeg(cfg LegConfig) (*Leg, error) {
	if cfg.AdvertiseIP == "" {
		return nil, errors.New("rtc: leg: no address to put in the SDP (AdvertiseIP)")
	}
	if cfg.MediaPorts == (media.PortRange{}) {
		cfg.MediaPorts = media.DefaultPorts
	}
	if err := cfg.MediaPorts.Validate(); err != nil {
		return nil, fmt.Errorf("rtc: leg: %w", err)
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []string{"PCMU", "PCMA", "telephone-event"}
	}
	for _, n := range cfg.Codecs {
		if _, ok := sdp.CodecByName(n); !ok {
			return nil, fmt.Errorf("rtc: codec %q is not supported; use PCMU, PCMA, telephone-event", n)
		}
	}
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = 30 * time.Second
	}
	if cfg.User == "" {
		cfg.User = "rtc"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	ip := cfg.BindIP
	if ip == nil {
		ip = net.IPv4zero
	}
	rtp, rtcp, err := media.Listen(ip, cfg.MediaPorts)
	if err != nil {
		return nil, fmt.Errorf("rtc: leg: %w", err)
	}
	return &Leg{cfg: cfg, rtp: rtp, rtcp: rtcp, sessID: uint64(time.Now().UnixNano() & 0x7fffffffffff), done: make(chan struct{})}, nil
}

func (l *Leg) port() int { return l.rtp.LocalAddr().(*net.UDPAddr).Port }

// Offer returns our SDP offer.
func (l *Leg) Offer() []byte {
	var cs []sdp.Codec
	for _, n := range l.cfg.Codecs {
		c, _ := sdp.CodecByName(n)
		cs = append(cs, c)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.local = sdp.NewAudio(l.sessID, 1, l.cfg.AdvertiseIP, l.port(), cs, 20)
	return l.local.Marshal()
}

// Answer negotiates the peer's offer and returns our answer. The error
// wraps sdp.ErrNoCommonCodec when the offer has no codec of ours.
func (l *Leg) Answer(offer []byte) ([]byte, error) {
	s, err := sdp.Parse(offer)
	if err != nil {
		return nil, err
	}
	ch, err := sdp.Negotiate(s, l.cfg.Codecs)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.choice = ch
	l.local = sdp.Answer(ch, l.sessID, 1, l.cfg.AdvertiseIP, l.port())
	return l.local.Marshal(), nil
}

// Accept negotiates the peer's answer to our offer.
func (l *Leg) Accept(answer []byte) error {
	s, err := sdp.Parse(answer)
	if err != nil {
		return err
	}
	ch, err := sdp.Negotiate(s, l.cfg.Codecs)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.choice = ch
	l.mu.Unlock()
	return nil
}

// Codec is the negotiated voice codec.
func (l *Leg) Codec() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.choice.Audio.Name
}

// Remote is the peer's RTP address.
func (l *Leg) Remote() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return net.JoinHostPort(l.choice.Addr, strconv.Itoa(l.choice.Port))
}

// Start runs the audio towards the negotiated address.
func (l *Leg) Start(opts CallOptions) error {
	l.mu.Lock()
	ch := l.choice
	l.mu.Unlock()
	ip := net.ParseIP(ch.Addr)
	if ip == nil {
		return fmt.Errorf("rtc: media address %q is not an IP address", ch.Addr)
	}
	codec, err := media.NewCodec(ch.Audio.Name, ch.Audio.PT)
	if err != nil {
		return err
	}
	ev := -1
	if ch.Event != nil {
		ev = int(ch.Event.PT)
	}
	cfg := media.Config{RTP: l.rtp, RTCP: l.rtcp,
		Remote: &net.UDPAddr{IP: ip, Port: ch.Port}, RemoteRTCP: &net.UDPAddr{IP: ip, Port: ch.RTCPPort},
		Codec: codec, EventPT: ev, Source: opts.Source, Sink: opts.Sink, Jitter: l.cfg.Jitter,
		CNAME: l.cfg.User + "@" + l.rtp.LocalAddr().String(), Logger: l.cfg.Logger, OnDTMF: opts.OnDTMF}
	st, err := media.Start(cfg)
	if err != nil {
		return err
	}
	l.mu.Lock()
	select {
	case <-l.done:
		l.mu.Unlock()
		st.Close()
		return ErrLocalHangup
	default:
	}
	l.stream = st
	l.mu.Unlock()
	l.held.Store(ch.Direction != "" && ch.Direction != "sendrecv")
	st.SetSending(ch.Direction == "" || ch.Direction == "sendrecv" || ch.Direction == "recvonly")
	if l.cfg.MediaTimeout > 0 {
		go l.watch(l.cfg.MediaTimeout)
	}
	return nil
}

func (l *Leg) getStream() *media.Stream {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stream
}

// Stats returns the media statistics.
func (l *Leg) Stats() media.Stats {
	if st := l.getStream(); st != nil {
		return st.Stats()
	}
	return media.Stats{}
}

// SendDTMF sends a digit as an RFC 4733 telephone event.
func (l *Leg) SendDTMF(digit byte) error {
	st := l.getStream()
	if st == nil {
		return errors.New("rtc: send DTMF: media has not started")
	}
	return st.SendDTMF(digit)
}

// Done is closed when the leg ends.
func (l *Leg) Done() <-chan struct{} { return l.done }

// Reason is why the leg ended (ErrMediaTimeout, or what Close was given).
func (l *Leg) Reason() error {
	select {
	case <-l.done:
		return l.reason
	default:
		return nil
	}
}

// Close ends the leg with reason and frees its ports.
func (l *Leg) Close(reason error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.reason = reason
		st := l.stream
		close(l.done)
		l.mu.Unlock()
		if st != nil {
			st.Close()
		} else {
			l.rtp.Close()
			l.rtcp.Close()
		}
	})
}

func (l *Leg) watch(d time.Duration) {
	tick := time.NewTicker(min(d/4, time.Second))
	defer tick.Stop()
	last, lastAt := uint64(0), time.Now()
	for {
		select {
		case <-l.done:
			return
		case now := <-tick.C:
			n := l.Stats().PacketsReceived
			if n != last || l.held.Load() {
				last, lastAt = n, now
				continue
			}
			if now.Sub(lastAt) >= d {
				l.Close(ErrMediaTimeout)
				return
			}
		}
	}
}

// WaitDone waits for the leg to end or ctx.
func (l *Leg) WaitDone(ctx context.Context) error {
	select {
	case <-l.done:
		return l.reason
	case <-ctx.Done():
		return ctx.Err()
	}
}

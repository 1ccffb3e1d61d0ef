package voice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Transport carries invitation bodies over the switchboard. The msmsgs
// daemon backs it with its client (see ClientTransport).
type Transport interface {
	// Open returns a one-to-one conversation with account, opening one if
	// none is open.
	Open(ctx context.Context, account string) (convID string, err error)
	// Send sends an invitation body (the fields of a text/x-msmsgsinvite
	// message) into the conversation.
	Send(ctx context.Context, convID string, body []byte) error
	// LocalIP is the local address of the conversation's connection: the
	// address the peer can reach us at, put into our ACCEPT.
	LocalIP(convID string) (netip.Addr, error)
	// Done is closed when the conversation ends; nil if it is not open.
	Done(convID string) <-chan struct{}
}

// Event types published through Config.OnEvent.
const (
	EventOffer     = "call-offer"     // an invitation arrived: Answer or Decline it
	EventRinging   = "call-ringing"   // our invitation went out; the peer is being asked
	EventConnected = "call-connected" // audio flows: Codec, Remote
	EventStats     = "call-stats"     // every Config.StatsInterval while connected
	EventEnded     = "call-ended"     // Reason says why
	EventDeclined  = "call-declined"  // an invitation we refused without asking (busy, malformed, flood)
	EventDTMF      = "call-dtmf"      // the peer sent DTMF: Digits
)

// Event is one thing that happened to a call.
type Event struct {
	Type         string        `json:"type"`
	Call         string        `json:"call,omitempty"` // call id ("v1", ...)
	Account      string        `json:"account,omitempty"`
	Conversation string        `json:"conversation,omitempty"`
	Codec        string        `json:"codec,omitempty"`
	Remote       string        `json:"remote,omitempty"` // peer's SIP address ip:port
	Reason       string        `json:"reason,omitempty"`
	Setup        time.Duration `json:"setup_ns,omitempty"`     // Call/INVITE to connected
	SIPSetup     time.Duration `json:"sip_setup_ns,omitempty"` // of it, SIP INVITE to 200 OK (rtc.Call.SetupTime)
	Digits       string        `json:"digits,omitempty"`       // call-dtmf
	Stats        *Stats        `json:"stats,omitempty"`
}

// Stats are a connected call's media figures.
type Stats struct {
	Loss      float64       `json:"loss"` // fraction of expected packets lost
	Lost      int64         `json:"lost"`
	Jitter    time.Duration `json:"jitter_ns"`
	Concealed uint64        `json:"concealed"` // frames played by concealment
	RTT       time.Duration `json:"rtt_ns"`
	Sent      uint64        `json:"sent"`
	Received  uint64        `json:"received"`
	DTMF      string        `json:"dtmf,omitempty"` // digits received
	// Capture and Playout are the call's mean audio latencies on this
	// side, when its audio is a sound card: capture to wire (a frame's
	// first sample captured to its RTP packet sent) and wire to playback
	// (an RTP packet received to its first sample leaving the sound
	// card's buffer); 0 when not measured.
	Capture    time.Duration `json:"capture_ns,omitempty"`
	CaptureMax time.Duration `json:"capture_max_ns,omitempty"`
	Playout    time.Duration `json:"playout_ns,omitempty"`
	PlayoutMax time.Duration `json:"playout_max_ns,omitempty"`
}

// CallInfo describes a call for Calls.
type CallInfo struct {
	ID           string `json:"id"`
	Account      string `json:"account"`
	Conversation string `json:"conversation"`
	Role         string `json:"role"`
	Phase        string `json:"phase"`
	Codec        string `json:"codec,omitempty"`
	Muted        bool   `json:"muted,omitempty"`
}

// Config configures a Manager. The catalog settings map onto it: rtc.sip_port
// (SIPPort), rtc.media_ports (MediaPorts), rtc.codecs (Codecs).
type Config struct {
	// SIPPort is where we listen for the peer's SIP INVITE (TCP and UDP);
	// default 6901, the RTC Client API's port.
	SIPPort int
	// ListenIP is the local address SIP and RTP bind to; default all.
	ListenIP string
	// AnnounceIP is the address announced to the peer in IP-Address and
	// the SDP (rtc.address), for a device whose peer reaches it through a
	// port-forwarding NAT; default the conversation's local address, or
	// ListenIP when it is one address.
	AnnounceIP string
	// SIPListen overrides ListenIP:SIPPort (tests use "127.0.0.1:0").
	SIPListen string
	// MediaPorts is the RTP/RTCP range; default 16384-16483.
	MediaPorts media.PortRange
	// Codecs in preference order; default PCMU, PCMA, telephone-event.
	Codecs []string
	// RingTimeout cancels an invitation nobody answered (TIMEOUT); default 60 s.
	RingTimeout time.Duration
	// ConnectTimeout bounds the SIP part after both ACCEPTs; default 15 s.
	ConnectTimeout time.Duration
	// MediaTimeout ends a call that receives no RTP (a vanished peer);
	// default 5 s.
	MediaTimeout time.Duration
	// StatsInterval is the call-stats period; default 2 s.
	StatsInterval time.Duration
	// MaxInvites bounds INVITEs accepted from one conversation per minute;
	// more are dropped as a flood. Default 10.
	MaxInvites int
	// Audio returns the audio ends of a call when it connects; nil sends
	// silence and discards what arrives.
	Audio func(call string) (audio.Source, audio.Sink)
	// OnEvent receives events, in order, on one goroutine. Nil drops them.
	OnEvent func(Event)
	Logger  *slog.Logger
}

func (c *Config) setDefaults() error {
	if c.SIPPort == 0 {
		c.SIPPort = rtc.DefaultPort
	}
	if c.SIPPort < 1 || c.SIPPort > 65535 {
		return fmt.Errorf("voice: rtc.sip_port %d: want 1-65535", c.SIPPort)
	}
	if c.ListenIP == "" {
		c.ListenIP = "0.0.0.0"
	}
	if c.SIPListen == "" {
		c.SIPListen = net.JoinHostPort(c.ListenIP, strconv.Itoa(c.SIPPort))
	}
	if c.MediaPorts == (media.PortRange{}) {
		c.MediaPorts = media.PortRange{Min: 16384, Max: 16483}
	}
	if err := c.MediaPorts.Validate(); err != nil {
		return fmt.Errorf("voice: rtc.media_ports: %w", err)
	}
	if len(c.Codecs) == 0 {
		c.Codecs = []string{"PCMU", "PCMA", "telephone-event"}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RingTimeout, 60*time.Second)
	def(&c.ConnectTimeout, 15*time.Second)
	def(&c.MediaTimeout, 5*time.Second)
	def(&c.StatsInterval, 2*time.Second)
	if c.MaxInvites <= 0 {
		c.MaxInvites = 10
	}
	if c.AnnounceIP != "" {
		a, err := netip.ParseAddr(c.AnnounceIP)
		if err != nil || a.IsUnspecified() {
			return fmt.Errorf("voice: rtc.address %q: want the IP address the peer reaches this device at", c.AnnounceIP)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// ParsePortRange parses the rtc.media_ports setting ("16384-16483").
func ParsePortRange(s string) (media.PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil {
		return media.PortRange{}, fmt.Errorf("voice: rtc.media_ports %q: want MIN-MAX such as 16384-16483", s)
	}
	r := media.PortRange{Min: a, Max: b}
	if err := r.Validate(); err != nil {
		return media.PortRange{}, fmt.Errorf("voice: rtc.media_ports %q: %w", s, err)
	}
	return r, nil
}

// Errors of the commands.
var (
	ErrBusy     = errors.New("voice: a call is already running; hang it up first")
	ErrNoCall   = errors.New("voice: no such call (see Calls)")
	ErrNotReady = errors.New("voice: the call is not in a state for that")
	ErrClosed   = errors.New("voice: call manager closed (signed out)")
)

// Manager runs voice calls over invitations: one call at a time.
type Manager struct {
	cfg   Config
	log   *slog.Logger
	tr    Transport
	phone *rtc.Phone

	events chan Event
	sends  chan outgoing
	stop   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	seq    int
	calls  map[string]*call // every call not yet ended
	floods map[string]*window
	closed bool
}

type outgoing struct {
	conv string
	inv  *Invitation
}

type window struct {
	start    time.Time
	n        int
	reported bool
}

type call struct {
	id, conv, peer string
	x              *Exchange
	created        time.Time
	muted          atomic.Bool
	timer          *time.Timer
	dialCancel     context.CancelFunc
	rc             *rtc.Call
	codec          string
	done           chan struct{}
}

// New validates cfg; Start begins listening.
func New(cfg Config, tr Transport) (*Manager, error) {
	if tr == nil {
		return nil, errors.New("voice: no transport")
	}
	cfg.Codecs = append([]string(nil), cfg.Codecs...)
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, tr: tr, events: make(chan Event, 256), sends: make(chan outgoing, 64),
		stop: make(chan struct{}), calls: map[string]*call{}, floods: map[string]*window{}}
	ph, err := rtc.New(rtc.Config{
		User: "msmsgs", ListenAddr: cfg.SIPListen, AdvertiseIP: cfg.AnnounceIP, Transports: []string{"tcp", "udp"},
		MediaPorts: cfg.MediaPorts, Codecs: cfg.Codecs,
		InviteTimeout: cfg.ConnectTimeout, RingTimeout: cfg.ConnectTimeout, MediaTimeout: cfg.MediaTimeout,
		MaxCalls: 2, OnIncoming: m.onSIP, OnRefused: m.onRefused, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("voice: %w", err)
	}
	m.phone = ph
	return m, nil
}

// Start listens for SIP and starts the event and send loops.
func (m *Manager) Start(ctx context.Context) error {
	if err := m.phone.Start(ctx); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	m.wg.Add(2)
	go m.eventLoop()
	go m.sendLoop()
	return nil
}

// SIPPort returns the bound SIP port (TCP).
func (m *Manager) SIPPort() int { return m.phone.Port("tcp") }

// Close ends every call (reason "signed out") and stops listening.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.SignedOut()
	m.phone.Close()
	close(m.stop)
	m.wg.Wait()
	return nil
}

func (m *Manager) emit(e Event) {
	select {
	case m.events <- e:
	case <-m.stop:
	}
}

func (m *Manager) eventLoop() {
	defer m.wg.Done()
	for {
		select {
		case e := <-m.events:
			if m.cfg.OnEvent != nil {
				m.cfg.OnEvent(e)
			}
		case <-m.stop:
			for {
				select {
				case e := <-m.events:
					if m.cfg.OnEvent != nil {
						m.cfg.OnEvent(e)
					}
				default:
					return
				}
			}
		}
	}
}

// send queues an invitation; one goroutine writes them in order, so a
// Deliver called on the switchboard's reader never waits for the network.
func (m *Manager) send(conv string, inv *Invitation) {
	if inv == nil {
		return
	}
	select {
	case m.sends <- outgoing{conv, inv}:
	default:
		// Never block the switchboard reader that called Deliver: the
		// queue only fills in a flood across many conversations.
		m.log.Warn("voice: send queue full; invitation dropped", "conversation", conv, "command", inv.Command)
	}
}

func (m *Manager) sendLoop() {
	defer m.wg.Done()
	do := func(o outgoing) {
		body, err := o.inv.Marshal()
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = m.tr.Send(ctx, o.conv, body)
			cancel()
		}
		if err != nil {
			m.log.Warn("voice: send invitation", "conversation", o.conv, "command", o.inv.Command, "err", err)
		}
	}
	for {
		select {
		case o := <-m.sends:
			do(o)
		case <-m.stop:
			for {
				select {
				case o := <-m.sends:
					do(o)
				default:
					return
				}
			}
		}
	}
}

// localAddr is our SIP address as the peer of conv sees it.
func (m *Manager) localAddr(conv string) (netip.AddrPort, error) {
	ip, err := m.tr.LocalIP(conv)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if a, err := netip.ParseAddr(m.cfg.AnnounceIP); err == nil {
		ip = a
	} else if l := m.cfg.SIPListen; l != "" {
		if h, _, err := net.SplitHostPort(l); err == nil {
			if a, err := netip.ParseAddr(h); err == nil && !a.IsUnspecified() {
				ip = a
			}
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(m.SIPPort())), nil
}

func (m *Manager) active() *call {
	for _, c := range m.calls {
		return c
	}
	return nil
}

func (m *Manager) newCall(conv, peer string, x *Exchange) *call {
	m.seq++
	c := &call{id: "v" + strconv.Itoa(m.seq), conv: conv, peer: peer, x: x, created: time.Now(), done: make(chan struct{})}
	m.calls[c.id] = c
	go m.watchConversation(c)
	return c
}

// watchConversation ends the call when its conversation closes.
func (m *Manager) watchConversation(c *call) {
	d := m.tr.Done(c.conv)
	if d == nil {
		m.finish(c, "", "conversation closed")
		return
	}
	select {
	case <-d:
		m.finish(c, "", "conversation closed")
	case <-c.done:
	}
}

// setTimer arms the call's phase timer (lock held).
func (m *Manager) setTimer(c *call, d time.Duration, code, reason string) {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(d, func() { m.finish(c, code, reason) })
}

// Call invites account to a voice conversation and returns the call id.
func (m *Manager) Call(ctx context.Context, account string) (string, error) {
	account = strings.ToLower(strings.TrimSpace(account))
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", ErrClosed
	}
	if a := m.active(); a != nil {
		m.mu.Unlock()
		return "", fmt.Errorf("%w (call %s with %s)", ErrBusy, a.id, a.peer)
	}
	m.mu.Unlock()
	conv, err := m.tr.Open(ctx, account)
	if err != nil {
		return "", fmt.Errorf("voice: call %s: %w", account, err)
	}
	local, err := m.localAddr(conv)
	if err != nil {
		return "", fmt.Errorf("voice: call %s: %w", account, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return "", ErrClosed
	}
	if a := m.active(); a != nil {
		return "", fmt.Errorf("%w (call %s with %s)", ErrBusy, a.id, a.peer)
	}
	x, inv := NewOutgoing(NewCookie(), NewSessionID(), local)
	c := m.newCall(conv, account, x)
	m.setTimer(c, m.cfg.RingTimeout, CancelTimeout, "no answer")
	m.send(conv, inv)
	m.emit(Event{Type: EventRinging, Call: c.id, Account: account, Conversation: conv})
	return c.id, nil
}

func (m *Manager) lookup(id string) (*call, error) {
	c := m.calls[id]
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoCall, id)
	}
	return c, nil
}

// Answer accepts an offered call.
func (m *Manager) Answer(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.lookup(id)
	if err != nil {
		return err
	}
	if c.x.Role != Invitee || c.x.Phase != Ringing {
		return fmt.Errorf("%w: answer call %s in phase %s", ErrNotReady, id, c.x.Phase)
	}
	st, err := c.x.Accept()
	if err != nil {
		return err
	}
	m.apply(c, st)
	return nil
}

// Decline refuses an offered call (REJECT).
func (m *Manager) Decline(id string) error {
	m.mu.Lock()
	c, err := m.lookup(id)
	if err == nil && (c.x.Role != Invitee || c.x.Phase != Ringing) {
		err = fmt.Errorf("%w: decline call %s in phase %s; use Hangup", ErrNotReady, id, c.x.Phase)
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.finish(c, CancelReject, "declined")
	return nil
}

// Hangup ends a call in any phase.
func (m *Manager) Hangup(id string) error {
	m.mu.Lock()
	c, err := m.lookup(id)
	m.mu.Unlock()
	if err != nil {
		return err
	}
	m.finish(c, "", "local hang-up")
	return nil
}

// DTMF sends digits (0-9 * # A-D) as RFC 4733 events, one after another.
func (m *Manager) DTMF(id, digits string) error {
	m.mu.Lock()
	c, err := m.lookup(id)
	var rc *rtc.Call
	if err == nil {
		rc = c.rc
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	if rc == nil {
		return fmt.Errorf("%w: DTMF needs a connected call", ErrNotReady)
	}
	if digits == "" || len(digits) > 32 || strings.Trim(digits, "0123456789*#ABCDabcd") != "" {
		return fmt.Errorf("voice: DTMF %q: use 1-32 of 0-9 * # A-D", trunc(digits))
	}
	for _, d := range []byte(strings.ToUpper(digits)) {
		if err := rc.SendDTMF(d); err != nil {
			return fmt.Errorf("voice: %w", err)
		}
	}
	return nil
}

// Mute stops (on) or resumes sending our audio; the call stays up.
func (m *Manager) Mute(id string, on bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.lookup(id)
	if err != nil {
		return err
	}
	c.muted.Store(on)
	return nil
}

// Calls lists the calls that have not ended.
func (m *Manager) Calls() []CallInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]CallInfo, 0, len(m.calls))
	for _, c := range m.calls {
		out = append(out, CallInfo{ID: c.id, Account: c.peer, Conversation: c.conv, Role: c.x.Role.String(),
			Phase: c.x.Phase.String(), Codec: c.codec, Muted: c.muted.Load()})
	}
	return out
}

// SignedOut ends every call (reason "signed out") and keeps listening for
// the next sign-in; Close also stops the SIP phone.
func (m *Manager) SignedOut() {
	m.mu.Lock()
	var cs []*call
	for _, c := range m.calls {
		cs = append(cs, c)
	}
	m.mu.Unlock()
	for _, c := range cs {
		m.finish(c, "", "signed out")
	}
}

// ConversationEnded ends the call of a conversation that closed (the
// transport's Done channel does this too).
func (m *Manager) ConversationEnded(conv string) {
	m.mu.Lock()
	var cs []*call
	for _, c := range m.calls {
		if c.conv == conv {
			cs = append(cs, c)
		}
	}
	m.mu.Unlock()
	for _, c := range cs {
		m.finish(c, "", "conversation closed")
	}
}

// DeliverFields is Deliver for fields the MSNP layer already split. It
// reports whether the invitation was a voice one (handled or refused here);
// false means it belongs to another application (file transfer...).
func (m *Manager) DeliverFields(conv, from string, h msnp.Header) bool {
	from = strings.ToLower(from)
	isVoice := strings.EqualFold(h.Get("Application-GUID"), GUID)
	cookie, _ := strconv.ParseUint(h.Get("Invitation-Cookie"), 10, 32)
	m.mu.Lock()
	var c *call
	for _, x := range m.calls {
		if x.conv == conv && uint64(x.x.Cookie) == cookie {
			c = x
		}
	}
	m.mu.Unlock()
	if !isVoice && c == nil {
		return false
	}
	inv, err := FromFields(h)
	if err != nil {
		m.refuse(conv, from, h, cookie, c, err)
		return true
	}
	if c != nil && from != c.peer {
		m.emit(Event{Type: EventDeclined, Call: c.id, Account: from, Conversation: conv,
			Reason: fmt.Sprintf("%s sent %s for a call with %s; ignored", from, inv.Command, c.peer)})
		return true
	}
	if inv.Command == CmdInvite {
		m.offer(conv, from, inv, c)
		return true
	}
	if c == nil {
		m.emit(Event{Type: EventDeclined, Account: from, Conversation: conv,
			Reason: fmt.Sprintf("%s with cookie %d matches no call; ignored", inv.Command, inv.Cookie)})
		return true
	}
	m.receive(c, inv)
	return true
}

// Deliver hands over an invitation body received in conv from account.
func (m *Manager) Deliver(conv, from string, body []byte) bool {
	if len(body) > MaxBody {
		m.emit(Event{Type: EventDeclined, Account: from, Conversation: conv, Reason: fmt.Sprintf("invitation of %d bytes (limit %d) ignored", len(body), MaxBody)})
		return true
	}
	h, err := msnp.ParseHeaderBlock(body)
	if err != nil {
		m.emit(Event{Type: EventDeclined, Account: from, Conversation: conv, Reason: "unparsable invitation ignored: " + err.Error()})
		return true
	}
	return m.DeliverFields(conv, from, h)
}

// refuse answers a voice invitation that failed to parse: an INVITE gets a
// CANCEL (when it has a usable cookie); anything else is ignored. An
// existing call is not touched.
func (m *Manager) refuse(conv, from string, h msnp.Header, cookie uint64, c *call, perr error) {
	reason := perr.Error()
	id := ""
	if c != nil {
		id = c.id
	}
	if strings.EqualFold(h.Get("Invitation-Command"), CmdInvite) && c == nil && cookie != 0 {
		if m.flooded(conv) {
			return
		}
		m.send(conv, NewCancel(uint32(cookie), "", CancelFail))
		reason += "; declined with CANCEL FAIL"
	}
	m.emit(Event{Type: EventDeclined, Call: id, Account: from, Conversation: conv, Reason: reason})
}

// flooded counts an INVITE from conv and reports whether it is over the
// limit; the first one over is reported, the rest are dropped silently.
func (m *Manager) flooded(conv string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	w := m.floods[conv]
	if w == nil || now.Sub(w.start) > time.Minute {
		w = &window{start: now}
		m.floods[conv] = w
		for k, o := range m.floods {
			if now.Sub(o.start) > time.Minute {
				delete(m.floods, k)
			}
		}
	}
	w.n++
	if w.n <= m.cfg.MaxInvites {
		return false
	}
	if !w.reported {
		w.reported = true
		m.emit(Event{Type: EventDeclined, Conversation: conv,
			Reason: fmt.Sprintf("more than %d voice invitations in a minute; further ones are dropped", m.cfg.MaxInvites)})
	}
	return true
}

func (m *Manager) offer(conv, from string, inv *Invitation, dup *call) {
	if m.flooded(conv) {
		return
	}
	if dup != nil {
		m.emit(Event{Type: EventDeclined, Call: dup.id, Account: from, Conversation: conv, Reason: "second INVITE with the cookie of a running call; ignored"})
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	if a := m.active(); a != nil {
		m.send(conv, NewCancel(inv.Cookie, inv.SessionID, CancelBusy))
		m.emit(Event{Type: EventDeclined, Account: from, Conversation: conv,
			Reason: fmt.Sprintf("busy: call %s with %s is running; declined with CANCEL %s", a.id, a.peer, CancelBusy)})
		return
	}
	local, err := m.localAddr(conv)
	if err != nil {
		m.send(conv, NewCancel(inv.Cookie, inv.SessionID, CancelFail))
		m.emit(Event{Type: EventDeclined, Account: from, Conversation: conv, Reason: "no local address: " + err.Error()})
		return
	}
	x, _ := NewIncoming(inv, local)
	c := m.newCall(conv, from, x)
	m.setTimer(c, m.cfg.RingTimeout, CancelTimeout, "not answered")
	m.emit(Event{Type: EventOffer, Call: c.id, Account: from, Conversation: conv})
}

func (m *Manager) receive(c *call, inv *Invitation) {
	m.mu.Lock()
	if m.calls[c.id] != c {
		m.mu.Unlock()
		return
	}
	st, err := c.x.Receive(inv)
	if err != nil {
		m.mu.Unlock()
		m.emit(Event{Type: EventDeclined, Call: c.id, Account: c.peer, Conversation: c.conv, Reason: err.Error() + "; ignored"})
		return
	}
	if st.Ended != "" {
		m.mu.Unlock()
		m.finish(c, "", "peer cancelled: "+st.Ended)
		return
	}
	m.apply(c, st)
	m.mu.Unlock()
}

// apply carries out a step (lock held).
func (m *Manager) apply(c *call, st Step) {
	m.send(c.conv, st.Send)
	if !st.Dial && !st.Answer {
		return
	}
	m.setTimer(c, m.cfg.ConnectTimeout, CancelFail, "no SIP connection between the devices")
	if st.Dial {
		ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ConnectTimeout)
		c.dialCancel = cancel
		go m.dial(ctx, c)
	}
}

func (m *Manager) audioFor(c *call) rtc.CallOptions {
	var src audio.Source = audio.Silence{}
	var sink audio.Sink = audio.Discard{}
	if m.cfg.Audio != nil {
		s, k := m.cfg.Audio(c.id)
		if s != nil {
			src = s
		}
		if k != nil {
			sink = k
		}
	}
	var ms audio.Source = &muteSource{src: src, muted: &c.muted}
	if rt, ok := src.(media.RealTimeSource); ok && rt.RealTime() {
		ms = realTimeMute{ms.(*muteSource)}
		if ct, ok := src.(media.CaptureTimer); ok {
			ms = timedMute{realTimeMute{ms.(realTimeMute).muteSource}, ct}
		}
	}
	dtmf := func(d byte) {
		m.emit(Event{Type: EventDTMF, Call: c.id, Account: c.peer, Conversation: c.conv, Digits: string(d)})
	}
	return rtc.CallOptions{Source: ms, Sink: sink, Transport: "tcp", OnDTMF: dtmf}
}

func (m *Manager) dial(ctx context.Context, c *call) {
	target := "sip:" + sipUser(c.peer) + "@" + c.x.Remote.String()
	rc, err := m.phone.Dial(ctx, target, m.audioFor(c))
	if errors.Is(err, rtc.ErrGlare) {
		// Our INVITEs crossed and the peer keeps its own: answer it.
		m.mu.Lock()
		if c.x.Role == Invitee {
			c.x.Yield()
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
	}
	if err != nil {
		if ctx.Err() != nil {
			m.mu.Lock()
			yielded := !c.x.Dials()
			m.mu.Unlock()
			if yielded {
				return // SIP INVITEs crossed and we answer the peer's
			}
		}
		m.finish(c, CancelFail, "SIP call failed: "+err.Error())
		return
	}
	m.connected(c, rc)
}

func sipUser(account string) string {
	u, _, _ := strings.Cut(account, "@")
	if u == "" {
		return "msmsgs"
	}
	return u
}

// onSIP takes an incoming SIP INVITE: it must come from the address a peer
// announced in its ACCEPT, for a call that waits for it.
func (m *Manager) onSIP(in *rtc.Incoming) {
	src, err := netip.ParseAddrPort(in.Source)
	var c *call
	m.mu.Lock()
	if err == nil {
		for _, x := range m.calls {
			if x.x.Phase == Signalling && x.x.Remote.Addr() == src.Addr().Unmap() {
				c = x
			}
		}
	}
	if c == nil {
		m.mu.Unlock()
		in.Reject(403)
		m.emit(Event{Type: EventDeclined, Reason: fmt.Sprintf("SIP INVITE from %s, an address no call announced; refused 403", in.Source)})
		return
	}
	if c.x.Dials() {
		if c.x.Role == Inviter {
			m.mu.Unlock()
			in.Reject(491) // crossed INVITEs: the inviter's wins
			return
		}
		c.x.Yield()
		if c.dialCancel != nil {
			c.dialCancel()
		}
	}
	opts := m.audioFor(c)
	m.mu.Unlock()
	rc, err := in.Answer(opts)
	if err != nil {
		m.finish(c, CancelFail, "SIP answer failed: "+err.Error())
		return
	}
	m.connected(c, rc)
}

// onRefused ends the call whose peer's SIP INVITE the phone refused (no
// common codec...), so the user hears why instead of a connect timeout.
func (m *Manager) onRefused(r rtc.Refused) {
	src, err := netip.ParseAddrPort(r.Source)
	if err != nil {
		return
	}
	m.mu.Lock()
	var c *call
	for _, x := range m.calls {
		if x.x.Phase == Signalling && x.x.Remote.Addr() == src.Addr().Unmap() {
			c = x
		}
	}
	m.mu.Unlock()
	if c == nil {
		m.emit(Event{Type: EventDeclined, Reason: fmt.Sprintf("SIP INVITE from %s refused %d: %s", r.Source, r.Code, r.Reason)})
		return
	}
	m.finish(c, CancelFail, fmt.Sprintf("refused the peer's call (SIP %d): %s", r.Code, r.Reason))
}

func (m *Manager) connected(c *call, rc *rtc.Call) {
	m.mu.Lock()
	if m.calls[c.id] != c || c.x.Connect() != nil {
		m.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		rc.Hangup(ctx)
		cancel()
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.rc = rc
	c.codec = rc.Codec()
	setup := time.Since(c.created)
	m.emit(Event{Type: EventConnected, Call: c.id, Account: c.peer, Conversation: c.conv, Codec: c.codec,
		Remote: c.x.Remote.String(), Setup: setup, SIPSetup: rc.SetupTime()})
	m.mu.Unlock()
	go m.watchCall(c, rc)
}

// watchCall publishes stats and notices the SIP call ending.
func (m *Manager) watchCall(c *call, rc *rtc.Call) {
	t := time.NewTicker(m.cfg.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s := rc.Stats()
			m.emit(Event{Type: EventStats, Call: c.id, Account: c.peer, Conversation: c.conv, Codec: c.codec, Stats: &Stats{
				Loss: s.LossFraction(), Lost: s.Lost, Jitter: s.Jitter, Concealed: s.Buffer.Concealed, RTT: s.RTT,
				Sent: s.PacketsSent, Received: s.PacketsReceived, DTMF: s.DTMFReceived,
				Capture: s.Capture.Mean, CaptureMax: s.Capture.Max, Playout: s.Playout.Mean, PlayoutMax: s.Playout.Max}})
		case <-rc.Done():
			reason := "ended"
			switch err := rc.Reason(); {
			case errors.Is(err, rtc.ErrRemoteHangup):
				reason = "remote hang-up"
			case errors.Is(err, rtc.ErrMediaTimeout):
				reason = fmt.Sprintf("peer vanished: no audio for %s", m.cfg.MediaTimeout)
			case errors.Is(err, rtc.ErrLocalHangup):
				reason = "local hang-up"
			case err != nil:
				reason = err.Error()
			}
			m.finish(c, "", reason)
			return
		case <-c.done:
			return
		}
	}
}

// finish ends a call once: a CANCEL (code, or the phase's default) before
// it connected, a SIP BYE after; then call-ended.
func (m *Manager) finish(c *call, code, reason string) {
	m.mu.Lock()
	if m.calls[c.id] != c {
		m.mu.Unlock()
		return
	}
	delete(m.calls, c.id)
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.dialCancel != nil {
		c.dialCancel()
	}
	rc := c.rc
	conv := c.conv
	cancel := c.x.End(code)
	if strings.HasPrefix(reason, "peer cancelled") || reason == "conversation closed" {
		cancel = nil // nothing to tell the peer, or no way to
	}
	close(c.done)
	m.mu.Unlock()
	m.send(conv, cancel)
	if rc != nil {
		ctx, cancelCtx := context.WithTimeout(context.Background(), 2*time.Second)
		if err := rc.Hangup(ctx); err != nil {
			m.log.Warn("voice: hang up", "call", c.id, "err", err)
		}
		cancelCtx()
	}
	m.emit(Event{Type: EventEnded, Call: c.id, Account: c.peer, Conversation: conv, Reason: reason})
}

// muteSource sends silence while muted.
type muteSource struct {
	src   audio.Source
	muted *atomic.Bool
}

func (s *muteSource) ReadFrame(f []int16) error {
	err := s.src.ReadFrame(f)
	if s.muted.Load() {
		clear(f)
	}
	return err
}

// realTimeMute keeps a paced source (a microphone) paced.
type realTimeMute struct{ *muteSource }

func (realTimeMute) RealTime() bool { return true }

// timedMute keeps a microphone's capture times visible to the stream.
type timedMute struct {
	realTimeMute
	media.CaptureTimer
}

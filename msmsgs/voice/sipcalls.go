package voice

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// SIPCalls places and answers calls on a SIP Communications Service
// account (msmsgs/sipaccount), as Windows Messenger 5.x did through Live
// Communications Server: the INVITE, its answers, ACK, BYE and CANCEL go
// through the SIP server on the account's Kerberos-signed connection
// (sipua), which forwards them to the other party's registered connection;
// the audio flows directly between the two endpoints (rtc.Leg). Its
// events and call commands are those of the .NET Messenger account's
// Manager; its call ids start with "s".
type SIPCalls struct {
	cfg SIPConfig
	log *slog.Logger

	events chan Event
	stop   chan struct{}
	wg     sync.WaitGroup

	mu     sync.Mutex
	seq    int
	calls  map[string]*sipCall // by id
	byCID  map[string]*sipCall // by Call-ID
	closed bool
}

// SIPConfig configures SIPCalls.
type SIPConfig struct {
	// UA returns the account's signed-in connection.
	UA func() (*sipua.UA, error)
	// Leg is the media configuration (ports, codecs, bind address); its
	// AdvertiseIP defaults to the local address of the connection to the
	// SIP server.
	Leg rtc.LegConfig
	// RingTimeout answers an unanswered incoming call 480 (default 60 s);
	// InviteTimeout cancels an outgoing one (default 60 s).
	RingTimeout, InviteTimeout time.Duration
	// MediaTimeout ends a call that receives no RTP (default 5 s).
	MediaTimeout time.Duration
	// StatsInterval is the call-stats period (default 2 s).
	StatsInterval time.Duration
	// Busy reports whether another call (the other account's) runs; an
	// INVITE is then answered 486.
	Busy func() bool
	// Audio returns the audio ends of a call when it connects.
	Audio   func(call string) (audio.Source, audio.Sink)
	OnEvent func(Event)
	Logger  *slog.Logger
}

type sipCall struct {
	id, peer, callID, role string
	ua                     *sipua.UA
	leg                    *rtc.Leg
	created, sipStart      time.Time
	inv                    *sipmsg.Message // the INVITE we received (invitee)
	remoteTo               string          // the peer's From/To value with its tag, for our in-dialog requests
	cseq                   uint32          // our INVITE's CSeq number (inviter)
	phase                  string          // "ringing", "connected"
	muted                  atomic.Bool
	timer                  *time.Timer
	dialCancel             context.CancelFunc
	cancelled              bool
	answer                 []byte // our SDP answer (invitee)
	done                   chan struct{}
}

// NewSIPCalls checks cfg.
func NewSIPCalls(cfg SIPConfig) (*SIPCalls, error) {
	if cfg.UA == nil {
		return nil, errors.New("voice: SIP calls need the account (UA)")
	}
	if cfg.RingTimeout <= 0 {
		cfg.RingTimeout = 60 * time.Second
	}
	if cfg.InviteTimeout <= 0 {
		cfg.InviteTimeout = 60 * time.Second
	}
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = 5 * time.Second
	}
	if cfg.StatsInterval <= 0 {
		cfg.StatsInterval = 2 * time.Second
	}
	if cfg.Busy == nil {
		cfg.Busy = func() bool { return false }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Leg.MediaTimeout = cfg.MediaTimeout
	cfg.Leg.Logger = cfg.Logger
	if cfg.Leg.User == "" {
		cfg.Leg.User = "msmsgs"
	}
	s := &SIPCalls{cfg: cfg, log: cfg.Logger, events: make(chan Event, 256), stop: make(chan struct{}),
		calls: map[string]*sipCall{}, byCID: map[string]*sipCall{}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case e := <-s.events:
				if cfg.OnEvent != nil {
					cfg.OnEvent(e)
				}
			case <-s.stop:
				return
			}
		}
	}()
	return s, nil
}

func (s *SIPCalls) emit(e Event) {
	select {
	case s.events <- e:
	case <-s.stop:
	}
}

// Close ends every call.
func (s *SIPCalls) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var cs []*sipCall
	for _, c := range s.calls {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		s.hangup(c, "signed out")
	}
	close(s.stop)
	s.wg.Wait()
	return nil
}

// Active reports whether a call is running or ringing.
func (s *SIPCalls) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls) > 0
}

func newCallID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *SIPCalls) add(c *sipCall) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if len(s.calls) > 0 {
		return ErrBusy
	}
	s.seq++
	c.id = "s" + strconv.Itoa(s.seq)
	c.done = make(chan struct{})
	s.calls[c.id] = c
	s.byCID[c.callID] = c
	return nil
}

func (s *SIPCalls) leg(ua *sipua.UA) (*rtc.Leg, error) {
	cfg := s.cfg.Leg
	if cfg.AdvertiseIP == "" {
		if a, ok := ua.LocalAddr().(*net.TCPAddr); ok {
			cfg.AdvertiseIP = a.IP.String()
		}
	}
	return rtc.NewLeg(cfg)
}

// Call calls uri (sip:user@domain) and returns the call id at once;
// call-ringing, call-connected or call-ended follow.
func (s *SIPCalls) Call(ctx context.Context, uri string) (string, error) {
	uri = strings.ToLower(uri)
	if !strings.HasPrefix(uri, "sip:") || !strings.Contains(uri, "@") || len(uri) > 256 || strings.ContainsAny(uri, " <>\";\r\n") {
		return "", fmt.Errorf("voice: %q is not a SIP address: want sip:user@domain", uri)
	}
	if s.cfg.Busy() {
		return "", ErrBusy
	}
	ua, err := s.cfg.UA()
	if err != nil {
		return "", err
	}
	leg, err := s.leg(ua)
	if err != nil {
		return "", fmt.Errorf("voice: %w", err)
	}
	c := &sipCall{peer: uri, callID: newCallID(), role: "inviter", ua: ua, leg: leg, created: time.Now(), phase: "ringing"}
	req := ua.NewRequest("INVITE", c.peer, c.peer, c.callID)
	req.Add("Contact", ua.Contact())
	req.Add("Content-Type", "application/sdp")
	req.Body = leg.Offer()
	c.cseq, _, _ = req.CSeq()
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.InviteTimeout)
	c.dialCancel = cancel
	if err := s.add(c); err != nil {
		cancel()
		leg.Close(err)
		return "", err
	}
	go s.dial(dctx, c, req)
	return c.id, nil
}

func (s *SIPCalls) dial(ctx context.Context, c *sipCall, req *sipmsg.Message) {
	defer c.dialCancel()
	c.sipStart = time.Now()
	rang := false
	resp, err := c.ua.Invite(ctx, req, func(r *sipmsg.Message) {
		if (r.Code == 180 || r.Code == 183) && !rang {
			rang = true
			s.emit(Event{Type: EventRinging, Call: c.id, Account: c.peer})
		}
	})
	sipSetup := time.Since(c.sipStart)
	if err != nil {
		reason := "no answer: " + err.Error()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = fmt.Sprintf("no answer within %s", s.cfg.InviteTimeout)
			s.sendCancel(c)
		}
		s.finish(c, reason)
		return
	}
	if resp.Code/100 != 2 {
		s.mu.Lock()
		cancelled := c.cancelled
		s.mu.Unlock()
		if cancelled {
			s.finish(c, "local hang-up")
			return
		}
		s.finish(c, refusal(resp))
		return
	}
	c.remoteTo = resp.Get("To")
	ack := c.ua.NewRequest("ACK", c.peer, c.peer, c.callID)
	ack.Set("To", c.remoteTo)
	ack.Set("CSeq", strconv.FormatUint(uint64(c.cseq), 10)+" ACK")
	if err := c.ua.Send(ack); err != nil {
		s.log.Warn("voice: ACK", "call", c.id, "err", err)
	}
	s.mu.Lock()
	cancelled := c.cancelled
	c.phase = "answered" // a hang-up from now on is a BYE
	s.mu.Unlock()
	if cancelled {
		// The 200 crossed our CANCEL: end the call it set up.
		s.hangup(c, "local hang-up")
		return
	}
	if err := c.leg.Accept(resp.Body); err != nil {
		s.hangup(c, "the answer's SDP: "+err.Error())
		return
	}
	s.connect(c, sipSetup)
}

// refusal says why the callee (or the server) refused our INVITE.
func refusal(r *sipmsg.Message) string {
	w := r.Get("Warning")
	if i := strings.IndexByte(w, '"'); i >= 0 {
		if j := strings.LastIndexByte(w, '"'); j > i {
			w = w[i+1 : j]
		}
	}
	why := map[int]string{404: "unknown", 480: "unavailable", 486: "busy", 487: "cancelled", 488: "refused for codecs",
		408: "no answer", 603: "declined", 415: "refused", 400: "refused", 503: "server busy"}[r.Code]
	if why == "" {
		why = "refused"
	}
	out := fmt.Sprintf("%s (SIP %d %s)", why, r.Code, r.Reason)
	if w != "" {
		out += ": " + w
	}
	return out
}

func (s *SIPCalls) sendCancel(c *sipCall) {
	x := c.ua.NewRequest("CANCEL", c.peer, c.peer, c.callID)
	x.Set("CSeq", strconv.FormatUint(uint64(c.cseq), 10)+" CANCEL")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.ua.Do(ctx, x); err != nil {
		s.log.Warn("voice: CANCEL", "call", c.id, "err", err)
	}
}

// connect starts the audio of an answered call.
func (s *SIPCalls) connect(c *sipCall, sipSetup time.Duration) {
	opts := s.audioFor(c)
	if err := c.leg.Start(opts); err != nil {
		s.hangup(c, "media: "+err.Error())
		return
	}
	s.mu.Lock()
	if s.calls[c.id] != c {
		s.mu.Unlock()
		return
	}
	c.phase = "connected"
	s.mu.Unlock()
	s.emit(Event{Type: EventConnected, Call: c.id, Account: c.peer, Codec: c.leg.Codec(), Remote: c.leg.Remote(),
		Setup: time.Since(c.created), SIPSetup: sipSetup})
	go s.watch(c)
}

func (s *SIPCalls) audioFor(c *sipCall) rtc.CallOptions {
	var src audio.Source = audio.Silence{}
	var sink audio.Sink = audio.Discard{}
	if s.cfg.Audio != nil {
		a, k := s.cfg.Audio(c.id)
		if a != nil {
			src = a
		}
		if k != nil {
			sink = k
		}
	}
	var ms audio.Source = &muteSource{src: src, muted: &c.muted}
	if rt, ok := src.(media.RealTimeSource); ok && rt.RealTime() {
		ms = realTimeMute{ms.(*muteSource)}
	}
	return rtc.CallOptions{Source: ms, Sink: sink, OnDTMF: func(d byte) {
		s.emit(Event{Type: EventDTMF, Call: c.id, Account: c.peer, Digits: string(d)})
	}}
}

func (s *SIPCalls) watch(c *sipCall) {
	t := time.NewTicker(s.cfg.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			st := c.leg.Stats()
			s.emit(Event{Type: EventStats, Call: c.id, Account: c.peer, Codec: c.leg.Codec(), Stats: &Stats{
				Loss: st.LossFraction(), Lost: st.Lost, Jitter: st.Jitter, Concealed: st.Buffer.Concealed, RTT: st.RTT,
				Sent: st.PacketsSent, Received: st.PacketsReceived, DTMF: st.DTMFReceived}})
		case <-c.leg.Done():
			if errors.Is(c.leg.Reason(), rtc.ErrMediaTimeout) {
				s.hangup(c, fmt.Sprintf("peer vanished: no audio for %s", s.cfg.MediaTimeout))
			}
			return
		case <-c.ua.Done():
			s.finish(c, "the SIP account's connection to the server ended")
			return
		case <-c.done:
			return
		}
	}
}

// hangup ends c from our side: BYE when connected, CANCEL while ringing
// out, 480/603 while ringing in.
func (s *SIPCalls) hangup(c *sipCall, reason string) {
	s.mu.Lock()
	if s.calls[c.id] != c {
		s.mu.Unlock()
		return
	}
	phase, role := c.phase, c.role
	if phase == "ringing" && role == "inviter" {
		c.cancelled = true
	}
	s.mu.Unlock()
	switch {
	case phase == "ringing" && role == "inviter":
		// The INVITE's 487 ends the call (dial finishes it); a 200 that
		// crossed the CANCEL is hung up there.
		s.sendCancel(c)
		return
	case phase == "ringing":
		_ = c.ua.Respond(c.inv, 480, "Temporarily Unavailable", nil)
	default:
		bye := c.ua.NewRequest("BYE", c.peer, c.peer, c.callID)
		bye.Set("To", c.remoteTo)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := c.ua.Do(ctx, bye); err != nil {
			s.log.Warn("voice: BYE", "call", c.id, "err", err)
		}
		cancel()
	}
	s.finish(c, reason)
}

// finish ends c once and reports call-ended.
func (s *SIPCalls) finish(c *sipCall, reason string) {
	s.mu.Lock()
	if s.calls[c.id] != c {
		s.mu.Unlock()
		return
	}
	delete(s.calls, c.id)
	delete(s.byCID, c.callID)
	if c.timer != nil {
		c.timer.Stop()
	}
	close(c.done)
	s.mu.Unlock()
	c.leg.Close(errors.New(reason))
	s.emit(Event{Type: EventEnded, Call: c.id, Account: c.peer, Reason: reason})
}

// OnDialog is the account's sipua.Config.OnDialog: the call requests the
// server forwards. It does not block the connection's reader.
func (s *SIPCalls) OnDialog(ua *sipua.UA, m *sipmsg.Message) {
	s.mu.Lock()
	c := s.byCID[m.Get("Call-ID")]
	s.mu.Unlock()
	switch m.Method {
	case "INVITE":
		if c != nil {
			_ = ua.Respond(m, 501, "Not Implemented", nil, "Warning", `399 msmsgs "re-INVITE is not supported"`)
			return
		}
		go s.offer(ua, m)
	case "ACK":
	case "CANCEL":
		if c == nil || c.role != "invitee" {
			_ = ua.Respond(m, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		_ = ua.Respond(m, 200, "OK", nil)
		s.mu.Lock()
		ringing := c.phase == "ringing"
		s.mu.Unlock()
		if ringing {
			_ = ua.Respond(c.inv, 487, "Request Terminated", nil)
			s.finish(c, "peer cancelled")
		}
	case "BYE":
		if c == nil {
			_ = ua.Respond(m, 481, "Call/Transaction Does Not Exist", nil)
			return
		}
		_ = ua.Respond(m, 200, "OK", nil)
		s.finish(c, byeReason(m.Get("Reason")))
	}
}

// offer handles an incoming INVITE: refused at once when it is not a call
// we can take, else call-offer and ringing until Answer, Decline or the
// ring timeout.
func (s *SIPCalls) offer(ua *sipua.UA, m *sipmsg.Message) {
	from := strings.ToLower(sipmsg.AddrURI(m.Get("From")))
	refuse := func(code int, reason, why string) {
		_ = ua.Respond(m, code, reason, nil, "Warning", `399 msmsgs "`+strings.ReplaceAll(why, `"`, `'`)+`"`)
		s.emit(Event{Type: EventDeclined, Account: from, Reason: fmt.Sprintf("SIP INVITE from %s refused %d: %s", from, code, why)})
	}
	if ct := strings.ToLower(strings.TrimSpace(strings.Split(m.Get("Content-Type"), ";")[0])); ct != "application/sdp" {
		refuse(415, "Unsupported Media Type", "the INVITE carries no SDP offer")
		return
	}
	if s.cfg.Busy() || s.Active() {
		refuse(486, "Busy Here", "a call is already running")
		return
	}
	leg, err := s.leg(ua)
	if err != nil {
		refuse(500, "Server Internal Error", err.Error())
		return
	}
	answer, err := leg.Answer(m.Body)
	if err != nil {
		leg.Close(err)
		if errors.Is(err, sdp.ErrNoCommonCodec) {
			refuse(488, "Not Acceptable Here", err.Error())
		} else {
			refuse(400, "Bad Request", "malformed SDP offer: "+err.Error())
		}
		return
	}
	c := &sipCall{peer: from, callID: m.Get("Call-ID"), role: "invitee", ua: ua, leg: leg, created: time.Now(),
		sipStart: time.Now(), inv: m, remoteTo: m.Get("From"), phase: "ringing"}
	if err := s.add(c); err != nil {
		leg.Close(err)
		refuse(486, "Busy Here", "a call is already running")
		return
	}
	c.answer = answer
	if err := ua.Respond(m, 180, "Ringing", nil); err != nil {
		s.finish(c, "could not ring: "+err.Error())
		return
	}
	s.mu.Lock()
	c.timer = time.AfterFunc(s.cfg.RingTimeout, func() { s.hangup(c, fmt.Sprintf("not answered within %s", s.cfg.RingTimeout)) })
	s.mu.Unlock()
	s.emit(Event{Type: EventOffer, Call: c.id, Account: from})
}

func (s *SIPCalls) lookup(id string) (*sipCall, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls[id]
	if c == nil {
		return nil, ErrNoCall
	}
	return c, nil
}

// Answer accepts a ringing incoming call.
func (s *SIPCalls) Answer(id string) error {
	c, err := s.lookup(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if c.role != "invitee" || c.phase != "ringing" {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s is %s, not an incoming call ringing", ErrNotReady, id, c.phase)
	}
	c.phase = "answering"
	if c.timer != nil {
		c.timer.Stop()
	}
	s.mu.Unlock()
	if err := c.ua.Respond(c.inv, 200, "OK", c.answer, "Contact", c.ua.Contact(), "Content-Type", "application/sdp"); err != nil {
		s.finish(c, "answer not sent: "+err.Error())
		return err
	}
	s.connect(c, time.Since(c.sipStart))
	return nil
}

// Decline refuses a ringing incoming call (603 Decline).
func (s *SIPCalls) Decline(id string) error {
	c, err := s.lookup(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	ok := c.role == "invitee" && c.phase == "ringing"
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s is not an incoming call ringing", ErrNotReady, id)
	}
	_ = c.ua.Respond(c.inv, 603, "Decline", nil)
	s.finish(c, "declined")
	return nil
}

// Hangup ends a call: BYE, or CANCEL while it rings.
func (s *SIPCalls) Hangup(id string) error {
	c, err := s.lookup(id)
	if err != nil {
		return err
	}
	s.hangup(c, "local hang-up")
	return nil
}

// DTMF sends digits as RFC 4733 events.
func (s *SIPCalls) DTMF(id, digits string) error {
	c, err := s.lookup(id)
	if err != nil {
		return err
	}
	for i := 0; i < len(digits); i++ {
		if err := c.leg.SendDTMF(digits[i]); err != nil {
			return fmt.Errorf("voice: dtmf %q: %w", digits[i], err)
		}
	}
	return nil
}

// Mute sends silence (on) or the audio (off).
func (s *SIPCalls) Mute(id string, on bool) error {
	c, err := s.lookup(id)
	if err != nil {
		return err
	}
	c.muted.Store(on)
	return nil
}

// Calls lists the calls.
func (s *SIPCalls) Calls() []CallInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CallInfo, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, CallInfo{ID: c.id, Account: c.peer, Conversation: c.callID, Role: c.role, Phase: c.phase,
			Codec: c.leg.Codec(), Muted: c.muted.Load()})
	}
	return out
}

// byeReason is the call-ended reason of a BYE: "remote hang-up", with the
// text of its Reason header (RFC 3326) when the server ended the call.
func byeReason(v string) string {
	const r = "remote hang-up"
	i := strings.Index(v, "text=")
	if i < 0 {
		return r
	}
	text := strings.TrimSpace(v[i+5:])
	if strings.HasPrefix(text, `"`) {
		if j := strings.IndexByte(text[1:], '"'); j >= 0 {
			text = text[1 : j+1]
		} else {
			text = text[1:]
		}
	} else if j := strings.IndexByte(text, ';'); j >= 0 {
		text = text[:j]
	}
	text = strings.Map(func(c rune) rune {
		if c < ' ' || c == 0x7f {
			return -1
		}
		return c
	}, text)
	if len(text) > 120 {
		text = text[:120]
	}
	if text == "" {
		return r
	}
	return r + ": " + text
}

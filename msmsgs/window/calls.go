package window

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
)

// Voice calls in the window. The daemon (with SYSGEN_RTC) publishes
// call-offer, call-ringing, call-connected, call-stats and call-ended and
// takes the ctl commands call, answer, decline, hangup and mute; the
// window shows each call in its peer's conversation and drives it from
// the keyboard: F6 calls the selected contact (or answers an incoming
// call), F7 declines or hangs up, F8 mutes and unmutes the microphone.

// CallPhase is where a call is.
type CallPhase int

// The phases of a call the window shows.
const (
	CallIncoming  CallPhase = iota // the peer calls us: answer or decline
	CallDialling                   // we asked the daemon to call; no answer from it yet
	CallRinging                    // our invitation went out
	CallConnected                  // audio flows
)

// MaxCalls bounds the calls the window tracks (the daemon runs one at a
// time; a flood of offers must not grow the window).
const MaxCalls = 8

// Call is one voice call shown in a conversation.
type Call struct {
	ID        string // the daemon's call id (v1, ...); "" while dialling
	Peer      string
	Phase     CallPhase
	Codec     string
	Since     time.Time // when the phase began (connected: the call's start)
	Muted     bool
	Loss      float64 // fraction of packets lost (call-stats)
	JitterMS  float64
	HaveStats bool
}

// callOf returns the window's call with id, or nil.
func (m *Model) callOf(id string) *Call {
	if id == "" {
		return nil
	}
	for _, c := range m.Calls {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// CallWith returns the call with peer, or nil.
func (m *Model) CallWith(peer string) *Call {
	for _, c := range m.Calls {
		if strings.EqualFold(c.Peer, peer) {
			return c
		}
	}
	return nil
}

// callFor finds the call an event is about: by id, else a call being
// dialled to the same peer (the ctl reply and call-ringing race).
func (m *Model) callFor(e client.Event) *Call {
	id := ""
	if e.CallEvent != nil {
		id = e.CallEvent.Call
	}
	if c := m.callOf(id); c != nil {
		return c
	}
	for _, c := range m.Calls {
		if c.ID == "" && strings.EqualFold(c.Peer, e.Account) {
			c.ID = id
			return c
		}
	}
	return nil
}

func (m *Model) addCall(c *Call) {
	if len(m.Calls) >= MaxCalls {
		m.Calls = m.Calls[1:]
	}
	m.Calls = append(m.Calls, c)
}

func (m *Model) dropCall(c *Call) {
	for i, x := range m.Calls {
		if x == c {
			m.Calls = append(m.Calls[:i], m.Calls[i+1:]...)
			return
		}
	}
}

// applyCall changes the model for a call event.
func (m *Model) applyCall(e client.Event) {
	id := ""
	if e.CallEvent != nil {
		id = e.CallEvent.Call
	}
	at := e.Time
	if at.IsZero() {
		at = time.Now()
	}
	switch e.Type {
	case client.EventCallOffer:
		if e.Account == "" || m.callOf(id) != nil {
			return
		}
		m.addCall(&Call{ID: id, Peer: e.Account, Phase: CallIncoming, Since: at})
		m.Conv(e.Account).add(Line{Kind: LineCallOffer, Time: at})
		if m.Screen != ScreenConversation || !strings.EqualFold(m.Peer, e.Account) {
			m.open(e.Account)
		}
	case client.EventCallRinging:
		c := m.callFor(e)
		if c == nil {
			if e.Account == "" {
				return
			}
			c = &Call{ID: id, Peer: e.Account}
			m.addCall(c)
		}
		c.Phase, c.Since = CallRinging, at
	case client.EventCallConnected:
		c := m.callFor(e)
		if c == nil {
			if e.Account == "" {
				return
			}
			c = &Call{ID: id, Peer: e.Account}
			m.addCall(c)
		}
		c.Phase, c.Since = CallConnected, at
		if e.CallEvent != nil {
			c.Codec = e.CallEvent.Codec
		}
	case client.EventCallStats:
		c := m.callFor(e)
		if c == nil || e.CallEvent == nil || e.CallEvent.Stats == nil {
			return
		}
		s := e.CallEvent.Stats
		c.Loss, c.JitterMS, c.HaveStats = s.Loss, float64(s.JitterNS)/1e6, true
		if e.CallEvent.Codec != "" {
			c.Codec = e.CallEvent.Codec
		}
	case client.EventCallEnded:
		c := m.callFor(e)
		peer := e.Account
		var dur time.Duration
		if c != nil {
			peer = c.Peer
			if c.Phase == CallConnected {
				dur = at.Sub(c.Since)
			}
			m.dropCall(c)
		}
		if peer != "" {
			m.Conv(peer).add(Line{Kind: LineCallEnded, Text: e.Reason, Dur: dur, Time: at})
		}
	case client.EventCallDeclined:
		// An invitation the daemon refused without asking (busy, flood,
		// malformed): a line in the conversation when it names a peer.
		if e.Account != "" && m.convOpen(e.Account) {
			m.Conv(e.Account).add(Line{Kind: LineCallDeclined, Text: e.Reason, Time: at})
		}
	}
}

// convOpen reports whether the window has a conversation with peer.
func (m *Model) convOpen(peer string) bool {
	_, ok := m.Convs[strings.ToLower(peer)]
	return ok
}

// callKey handles F6, F7 and F8 for peer's conversation (or the selected
// contact on the contact list) and returns the ctl commands.
func (m *Model) callKey(k Key, peer string, now time.Time) [][]string {
	if peer == "" {
		return nil
	}
	c := m.CallWith(peer)
	switch k.Code {
	case KeyF6:
		switch {
		case c == nil:
			m.addCall(&Call{Peer: peer, Phase: CallDialling, Since: now})
			m.open(peer)
			return [][]string{{"call", peer}}
		case c.Phase == CallIncoming && c.ID != "":
			return [][]string{{"answer", c.ID}}
		}
	case KeyF7:
		switch {
		case c == nil:
		case c.Phase == CallIncoming && c.ID != "":
			return [][]string{{"decline", c.ID}}
		case c.ID != "":
			return [][]string{{"hangup", c.ID}}
		}
	case KeyF8:
		if c != nil && c.Phase == CallConnected && c.ID != "" {
			c.Muted = !c.Muted
			return [][]string{{"mute", c.ID, onOff(c.Muted)}}
		}
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// callResult applies the daemon's answer to a call command: the call id
// of a new call; on an error, a line in the conversation and the state
// from before the command.
func (m *Model) callResult(args []string, id string, err error) {
	now := time.Now()
	switch args[0] {
	case "call":
		c := m.CallWith(args[1])
		if err != nil {
			if c != nil && c.ID == "" {
				m.dropCall(c)
			}
			m.Conv(args[1]).add(Line{Kind: LineCallFailed, Text: err.Error(), Time: now})
			return
		}
		if c != nil && c.ID == "" && id != "" {
			c.ID = id
		}
	case "mute":
		c := m.callOf(args[1])
		if err != nil && c != nil {
			c.Muted = args[2] != "on"
			m.Conv(c.Peer).add(Line{Kind: LineCallFailed, Text: err.Error(), Time: now})
		}
	case "answer", "decline", "hangup":
		if err == nil {
			return
		}
		if c := m.callOf(args[1]); c != nil {
			m.Conv(c.Peer).add(Line{Kind: LineCallFailed, Text: err.Error(), Time: now})
		}
	}
}

// callReason is the daemon's call-ended reason in the window's language;
// a reason it does not know is shown as the daemon wrote it.
func (r *Renderer) callReason(reason string) string {
	switch has := func(p string) bool { return strings.HasPrefix(reason, p) }; {
	case reason == "":
		return r.Text("win.call-reason-ended")
	case has("remote hang-up"):
		return r.Text("win.call-reason-remote")
	case has("local hang-up"):
		return r.Text("win.call-reason-local")
	case has("declined"):
		return r.Text("win.call-reason-declined")
	case has("conversation closed"):
		return r.Text("win.call-reason-closed")
	case has("signed out"):
		return r.Text("win.call-reason-signed-out")
	case has("no answer"):
		return r.Text("win.call-reason-no-answer")
	case has("not answered"):
		return r.Text("win.call-reason-missed")
	case has("peer cancelled"):
		return r.Text("win.call-reason-cancelled")
	case has("peer vanished"):
		return r.Text("win.call-reason-vanished")
	}
	return reason
}

// clock formats a call's duration as m:ss (h:mm:ss past an hour).
func clock(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d / time.Second)
	h, mm, ss := s/3600, s/60%60, s%60
	if h > 0 {
		return itoa(uint32(h)) + ":" + two(mm) + ":" + two(ss)
	}
	return itoa(uint32(mm)) + ":" + two(ss)
}

func two(n int) string {
	return string([]byte{byte('0' + n/10%10), byte('0' + n%10)})
}

// callH is the height of the call bar under a conversation's header.
const callH = 30

// Colours of the call bar.
var (
	colCallIn   = color.RGBA{255, 244, 204, 255} // an incoming call asks for a key
	colCallLine = color.RGBA{214, 160, 30, 255}
	colCallOn   = color.RGBA{222, 242, 222, 255} // in a call
)

// callBar draws call's state into bar and reports whether it changes by
// itself (the duration of a connected call).
func (r *Renderer) callBar(dst *image.RGBA, m *Model, c *Call, bar image.Rectangle, now time.Time) bool {
	bg, edge := colCallOn, colBar
	name := m.NameOf(c.Peer)
	var s string
	moving := false
	switch c.Phase {
	case CallIncoming:
		bg, edge = colCallIn, colCallLine
		s = r.Text("win.call-incoming", name)
	case CallDialling, CallRinging:
		s = r.Text("win.call-ringing", name)
	case CallConnected:
		s = r.Text("win.call-connected", name, c.Codec, clock(now.Sub(c.Since)))
		if c.Muted {
			s += "  " + r.Text("win.call-muted")
		}
		if c.HaveStats {
			s += "  " + r.Text("win.call-stats", fmt.Sprintf("%.1f", 100*c.Loss), fmt.Sprintf("%.0f", c.JitterMS))
		}
		moving = true
	}
	fill(dst, bar, bg)
	fill(dst, image.Rect(bar.Min.X, bar.Max.Y-1, bar.Max.X, bar.Max.Y), edge)
	fill(dst, image.Rect(bar.Min.X, bar.Min.Y, bar.Min.X+4, bar.Max.Y), edge)
	phone(dst, bar.Min.X+pad+2, bar.Min.Y+7, edge)
	text(dst, r.Fonts.Bold, bar.Min.X+pad+22, bar.Min.Y+19, s, colText, bar.Dx()-2*pad-22)
	return moving
}

// phone draws a 16x16 handset.
func phone(dst *image.RGBA, x, y int, c color.RGBA) {
	fill(dst, image.Rect(x, y, x+5, y+5), c)
	fill(dst, image.Rect(x+11, y, x+16, y+5), c)
	fill(dst, image.Rect(x+2, y+1, x+14, y+4), c)
	fill(dst, image.Rect(x+3, y+7, x+13, y+16), c)
	fill(dst, image.Rect(x+6, y+9, x+10, y+13), colBG)
}

// callLine is the text and colour of a call line in the history.
func (r *Renderer) callLine(m *Model, peer string, l Line) (string, color.RGBA) {
	switch l.Kind {
	case LineCallOffer:
		return r.Text("win.call-offer-line", m.NameOf(peer)), colDim
	case LineCallEnded:
		if l.Dur > 0 {
			return r.Text("win.call-ended-after", clock(l.Dur), r.callReason(l.Text)), colDim
		}
		return r.Text("win.call-ended", r.callReason(l.Text)), colDim
	case LineCallDeclined:
		return r.Text("win.call-refused", l.Text), colNotice
	}
	return r.Text("win.call-failed", l.Text), colNotice
}

package window

import (
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"

	"github.com/oemkit/messenger/msmsgs/client"
)

func callEvent(typ, id, peer string, at time.Time) client.Event {
	return client.Event{Type: typ, Account: peer, Time: at, CallEvent: &client.CallEvent{Call: id}}
}

// ringing returns signedIn with Bob calling (call v1) while the contact
// list is shown: the offer opens his conversation.
func ringing() *Model {
	m := chatting()
	m.Key(Key{Code: KeyEsc}, epoch)
	m.Apply(callEvent(client.EventCallOffer, "v1", "bob@lab.example", epoch.Add(-2*time.Second)))
	return m
}

// inCall returns ringing with the call answered, connected 83 s ago,
// muted, with media figures.
func inCall() *Model {
	m := ringing()
	m.Key(Key{Code: KeyF6}, epoch)
	m.callResult([]string{"answer", "v1"}, "v1", nil)
	e := callEvent(client.EventCallConnected, "v1", "bob@lab.example", epoch.Add(-83*time.Second))
	e.CallEvent.Codec = "PCMU"
	m.Apply(e)
	e = callEvent(client.EventCallStats, "v1", "bob@lab.example", epoch.Add(-time.Second))
	e.CallEvent.Codec = "PCMU"
	e.CallEvent.Stats = &client.CallStats{Loss: 0.012, JitterNS: 4e6}
	m.Apply(e)
	m.Key(Key{Code: KeyF8}, epoch)
	return m
}

// callEnded returns inCall after the peer hung up.
func callEnded() *Model {
	m := inCall()
	e := callEvent(client.EventCallEnded, "v1", "bob@lab.example", epoch)
	e.Reason = "remote hang-up"
	m.Apply(e)
	return m
}

func TestCallFlow(t *testing.T) {
	m := signedIn()
	var sent [][]string
	press := func(k Key) { sent = append(sent, m.Key(k, epoch)...) }
	// An incoming call opens the conversation; F6 answers it.
	m.Apply(callEvent(client.EventCallOffer, "v3", "carol@lab.example", epoch))
	if m.Screen != ScreenConversation || m.Peer != "carol@lab.example" {
		t.Fatalf("call-offer: screen %v peer %q, want carol's conversation", m.Screen, m.Peer)
	}
	press(Key{Code: KeyF8}) // not connected: no mute
	press(Key{Code: KeyF6})
	m.Apply(callEvent(client.EventCallConnected, "v3", "carol@lab.example", epoch))
	if c := m.CallWith("carol@lab.example"); c == nil || c.Phase != CallConnected {
		t.Fatalf("after call-connected the call is %+v, want connected", c)
	}
	press(Key{Code: KeyF8})
	press(Key{Code: KeyF8})
	press(Key{Code: KeyF7})
	ended := callEvent(client.EventCallEnded, "v3", "carol@lab.example", epoch.Add(42*time.Second))
	ended.Reason = "local hang-up"
	m.Apply(ended)
	if m.CallWith("carol@lab.example") != nil {
		t.Errorf("call-ended left the call in the window")
	}
	last := m.Conv("carol@lab.example").Lines
	if l := last[len(last)-1]; l.Kind != LineCallEnded || l.Dur != 42*time.Second || l.Text != "local hang-up" {
		t.Errorf("last line %+v, want the call's end after 42s", l)
	}
	// Esc, then F6 on the selected contact (Bob) calls him; the daemon's
	// reply names the call and its events find it.
	press(Key{Code: KeyEsc})
	m.Selected = 0
	press(Key{Code: KeyF6})
	if m.Screen != ScreenConversation || m.Peer != "bob@lab.example" {
		t.Fatalf("F6 on the contact list: screen %v peer %q, want bob's conversation", m.Screen, m.Peer)
	}
	press(Key{Code: KeyF6}) // already dialling: nothing more
	m.callResult([]string{"call", "bob@lab.example"}, "v4", nil)
	m.Apply(callEvent(client.EventCallRinging, "v4", "bob@lab.example", epoch))
	press(Key{Code: KeyF7})
	// A call the daemon refuses to place leaves a line and no call.
	m.Selected = 1
	m.Key(Key{Code: KeyEsc}, epoch)
	m.Selected = 1
	press(Key{Code: KeyF6})
	m.callResult([]string{"call", "grace@lab.example"}, "", errString("voice calls are not in this design (SYSGEN_RTC)"))
	if m.CallWith("grace@lab.example") != nil {
		t.Errorf("a failed call command left a call")
	}
	want := [][]string{{"answer", "v3"}, {"mute", "v3", "on"}, {"mute", "v3", "off"}, {"hangup", "v3"},
		{"call", "bob@lab.example"}, {"hangup", "v4"}, {"call", "grace@lab.example"}}
	if len(sent) != len(want) {
		t.Fatalf("sent %q, want %q", sent, want)
	}
	for i := range want {
		if strings.Join(sent[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("command %d = %q, want %q", i, sent[i], want[i])
		}
	}
	// Decline.
	m.Apply(callEvent(client.EventCallOffer, "v5", "erin@lab.example", epoch))
	if got := m.Key(Key{Code: KeyF7}, epoch); len(got) != 1 || strings.Join(got[0], " ") != "decline v5" {
		t.Errorf("F7 on an incoming call sent %q, want decline v5", got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestCallOfferFlood: offers beyond MaxCalls do not grow the window.
func TestCallOfferFlood(t *testing.T) {
	m := signedIn()
	for i := 0; i < 10*MaxCalls; i++ {
		m.Apply(callEvent(client.EventCallOffer, "v"+itoa(uint32(i)), "bob@lab.example", epoch))
	}
	if len(m.Calls) > MaxCalls {
		t.Errorf("%d calls kept, want at most %d", len(m.Calls), MaxCalls)
	}
	if n := len(m.Conv("bob@lab.example").Lines); n > MaxHistory {
		t.Errorf("%d lines kept, want at most %d", n, MaxHistory)
	}
}

// TestCallScreens renders the call states and checks that the call bar
// is where the layout puts it, in its colour, with text on it.
func TestCallScreens(t *testing.T) {
	bar := image.Rect(0, titleH+28, 480, titleH+28+callH)
	for _, tc := range []struct {
		name, locale string
		model        func() *Model
		bg           color.RGBA
		want         string // a string the bar must draw (measured)
	}{
		{"call-incoming", "en-US", ringing, colCallIn, "Bob is calling you. F6: answer, F7: decline"},
		{"call-connected", "en-US", inCall, colCallOn, "In a call with Bob (PCMU), 1:23  [muted]  loss 1.2%, jitter 4 ms"},
		{"call-connected-ja", "ja-JP", inCall, colCallOn, "Bob と通話中 (PCMU)、1:23  [ミュート]  損失 1.2%、ジッター 4 ms"},
		{"call-ended", "de-DE", callEnded, colBG, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := renderer(t, tc.locale)
			r.Voice = true
			img := image.NewRGBA(image.Rect(0, 0, 480, 640))
			r.Render(img, tc.model(), epoch)
			golden(t, tc.name, img)
			if n := countNear(img, bar, tc.bg); n < bar.Dx()*bar.Dy()/2 {
				t.Errorf("call bar %v: %d pixels of %v, want most of it", bar, n, tc.bg)
			}
			if tc.want == "" {
				return
			}
			// The text's ink spans about as wide as the string measures.
			w := font.MeasureString(r.Fonts.Bold, tc.want).Ceil()
			x0, x1 := inkSpan(img, image.Rect(bar.Min.X+pad+22, bar.Min.Y+6, bar.Max.X, bar.Max.Y-6))
			if x0 < 0 || abs((x1-x0)-w) > 8 {
				t.Errorf("bar text ink spans x %d..%d (%d px), want about %d px for %q", x0, x1, x1-x0, w, tc.want)
			}
		})
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// inkSpan is the x range of dark pixels in r (-1, -1: none).
func inkSpan(img *image.RGBA, r image.Rectangle) (int, int) {
	x0, x1 := -1, -1
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if int(c.R)+int(c.G)+int(c.B) < 200 {
				if x0 < 0 || x < x0 {
					x0 = x
				}
				if x > x1 {
					x1 = x
				}
			}
		}
	}
	return x0, x1 + 1
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", 83 * time.Second: "1:23", time.Hour + 62*time.Second: "1:01:02", -time.Second: "0:00"} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}

// countNear returns how many pixels of img inside r are within 24 of c.
func countNear(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	near := func(a, b uint8) bool { return int(a)+24 >= int(b) && int(b)+24 >= int(a) }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if near(p.R, c.R) && near(p.G, c.G) && near(p.B, c.B) {
				n++
			}
		}
	}
	return n
}

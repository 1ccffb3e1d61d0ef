package voice

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
)

// pipe is a Transport whose far end is the test: what the manager sends
// arrives on sent, and the test calls Deliver for what the peer says.
type pipe struct {
	sent chan []byte
	done chan struct{}
	ip   netip.Addr
}

func newPipe() *pipe {
	return &pipe{sent: make(chan []byte, 64), done: make(chan struct{}), ip: netip.MustParseAddr("127.0.0.1")}
}

func (p *pipe) Open(context.Context, string) (string, error) { return "c1", nil }
func (p *pipe) Send(_ context.Context, _ string, body []byte) error {
	p.sent <- append([]byte(nil), body...)
	return nil
}
func (p *pipe) LocalIP(string) (netip.Addr, error) { return p.ip, nil }
func (p *pipe) Done(string) <-chan struct{}        { return p.done }

// recorder collects a manager's events.
type recorder struct {
	mu  sync.Mutex
	all []Event
	c   chan Event
}

func newRecorder() *recorder { return &recorder{c: make(chan Event, 512)} }

func (r *recorder) on(e Event) {
	r.mu.Lock()
	r.all = append(r.all, e)
	r.mu.Unlock()
	r.c <- e
}

// wait returns the next event of type typ, skipping others.
func (r *recorder) wait(t testing.TB, typ string, d time.Duration) Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case e := <-r.c:
			if e.Type == typ {
				return e
			}
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no %s event within %s; events: %+v", typ, d, r.all)
		}
	}
}

// audioEnds gives every call a tone source and records what it hears.
type audioEnds struct {
	freq float64
	mu   sync.Mutex
	bufs []*audio.Buffer
}

func (a *audioEnds) get(string) (audio.Source, audio.Sink) {
	b := &audio.Buffer{}
	a.mu.Lock()
	a.bufs = append(a.bufs, b)
	a.mu.Unlock()
	return &audio.Tone{Freq: a.freq}, b
}

func (a *audioEnds) last() *audio.Buffer {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.bufs) == 0 {
		return &audio.Buffer{}
	}
	return a.bufs[len(a.bufs)-1]
}

func newTestManager(t testing.TB, tr Transport, ends *audioEnds, mod func(*Config)) (*Manager, *recorder) {
	t.Helper()
	rec := newRecorder()
	cfg := Config{SIPListen: "127.0.0.1:0", OnEvent: rec.on, Audio: ends.get, StatsInterval: 300 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	m, err := New(cfg, tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, rec
}

// peerPhone is the other device's SIP phone, sending a 1000 Hz tone.
type peerPhone struct {
	*rtc.Phone
	calls chan *rtc.Call
	heard *audio.Buffer
}

func newPeerPhone(t testing.TB, listen string) *peerPhone {
	t.Helper()
	p := &peerPhone{calls: make(chan *rtc.Call, 4), heard: &audio.Buffer{}}
	ph, err := rtc.New(rtc.Config{User: "peer", ListenAddr: listen, Transports: []string{"tcp", "udp"},
		OnIncoming: func(in *rtc.Incoming) {
			c, err := in.Answer(rtc.CallOptions{Source: &audio.Tone{Freq: 1000}, Sink: p.heard})
			if err == nil {
				p.calls <- c
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ph.Close() })
	p.Phone = ph
	return p
}

const (
	txInviter = "192.168.1.20:6901"
	txInvitee = "192.168.1.31:6901"
	txCookie  = "289142"
	txSession = "{6E8B6A44-2C6C-4F4E-9A57-1C0E5B7D2F31}"
)

// replay plays a transcript with the manager on one side (me: "alice" the
// inviter or "bob" the invitee) and the test with a real SIP phone on the
// other. It returns the manager's recorder after the last step.
func replay(t *testing.T, file, me string) {
	ends := &audioEnds{freq: 440}
	p := newPipe()
	m, rec := newTestManager(t, p, ends, nil)
	peer := newPeerPhone(t, "127.0.0.1:0")
	mine := "127.0.0.1:" + strconv.Itoa(m.SIPPort())
	theirs := "127.0.0.1:" + strconv.Itoa(peer.Port("tcp"))
	subst := map[string]string{}
	addr := func(tx, real string) {
		subst[tx] = real
		subst[base64.StdEncoding.EncodeToString([]byte(tx))] = base64.StdEncoding.EncodeToString([]byte(real))
	}
	if me == "alice" {
		addr(txInviter, mine)
		addr(txInvitee, theirs)
	} else {
		addr(txInvitee, mine)
		addr(txInviter, theirs)
	}
	apply := func(b []byte) []byte {
		for k, v := range subst {
			b = bytes.ReplaceAll(b, []byte(k), []byte(v))
		}
		return b
	}
	ctx := context.Background()
	var id string
	answered := false
	var peerCall *rtc.Call
	for _, b := range readTranscript(t, file) {
		switch {
		case b.kind == "MSG" && !strings.HasPrefix(b.from, me+"@"):
			// The peer speaks: deliver it.
			body := apply(b.body(t))
			if !m.Deliver("c1", b.from, body) {
				t.Fatalf("Deliver(%s) = false, want the voice invitation taken", b.line)
			}
			inv, _ := Parse(body)
			if inv != nil && inv.Command == CmdCancel {
				e := rec.wait(t, EventEnded, 5*time.Second)
				if want := "peer cancelled: " + inv.CancelCode; e.Reason != want || e.Call != id {
					t.Errorf("call-ended = %+v, want call %s reason %q", e, id, want)
				}
			}
			if inv != nil && inv.Command == CmdInvite {
				e := rec.wait(t, EventOffer, 5*time.Second)
				id = e.Call
				if e.Account != b.from || e.Conversation != "c1" {
					t.Errorf("call-offer = %+v, want from %s in c1", e, b.from)
				}
			}
		case b.kind == "MSG":
			// We speak: make the manager say it, then compare.
			want := b.body(t)
			inv, err := Parse(want)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case inv.Command == CmdInvite:
				id, err = m.Call(ctx, "bob@example.com")
				if err != nil {
					t.Fatal(err)
				}
				rec.wait(t, EventRinging, 5*time.Second)
			case inv.Command == CmdAccept && me == "bob" && !answered:
				if err := m.Answer(id); err != nil {
					t.Fatal(err)
				}
				answered = true
			case inv.Command == CmdCancel && me == "bob":
				if err := m.Decline(id); err != nil {
					t.Fatal(err)
				}
			case inv.Command == CmdCancel:
				if err := m.Hangup(id); err != nil {
					t.Fatal(err)
				}
			}
			var got []byte
			select {
			case got = <-p.sent:
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: the manager sent nothing", b.line)
			}
			if inv.Command == CmdInvite {
				// Our cookie and Session-ID are random: map the transcript's.
				g, err := Parse(got)
				if err != nil {
					t.Fatalf("manager's INVITE %q: %v", got, err)
				}
				subst[txCookie] = strconv.FormatUint(uint64(g.Cookie), 10)
				subst[txSession] = g.SessionID
			}
			if want = apply(want); !bytes.Equal(got, want) {
				t.Fatalf("%s: manager sent\n%s\nwant\n%s", b.line, got, want)
			}
			if inv.Command == CmdCancel {
				want := map[string]string{"alice": "local hang-up", "bob": "declined"}[me]
				if e := rec.wait(t, EventEnded, 5*time.Second); e.Reason != want || e.Call != id {
					t.Errorf("call-ended = %+v, want call %s reason %q", e, id, want)
				}
			}
		case strings.HasPrefix(b.line, "=== SIP INVITE"):
			f := strings.Fields(b.line)
			dialer := f[3]
			weDial := (dialer == "inviter") == (me == "alice")
			if weDial {
				select {
				case peerCall = <-peer.calls:
				case <-time.After(10 * time.Second):
					t.Fatal("the manager placed no SIP call to the peer's IP-Address")
				}
			} else {
				var err error
				peerCall, err = peer.Dial(ctx, "sip:"+me+"@"+mine, rtc.CallOptions{Source: &audio.Tone{Freq: 1000}, Sink: peer.heard, Transport: "tcp"})
				if err != nil {
					t.Fatalf("peer dials the manager: %v", err)
				}
			}
			e := rec.wait(t, EventConnected, 10*time.Second)
			if e.Call != id || e.Codec != "PCMU" || e.Remote != theirs {
				t.Errorf("call-connected = %+v, want call %s, PCMU, remote %s", e, id, theirs)
			}
		case b.line == "=== SIP BYE":
			st := rec.wait(t, EventStats, 5*time.Second)
			if st.Stats == nil {
				t.Fatal("call-stats without stats")
			}
			time.Sleep(time.Second)
			if err := m.Hangup(id); err != nil {
				t.Fatal(err)
			}
			e := rec.wait(t, EventEnded, 5*time.Second)
			if e.Reason != "local hang-up" {
				t.Errorf("call-ended reason %q", e.Reason)
			}
			if peerCall != nil {
				select {
				case <-peerCall.Done():
				case <-time.After(5 * time.Second):
					t.Error("peer's call did not end on our BYE")
				}
			}
			heard := ends.last().Samples()
			if !audio.DominantTone(heard, 1000, []float64{440, 2000}, 10) {
				t.Errorf("the manager's call did not hear the peer's 1000 Hz (%d samples)", len(heard))
			}
			if !audio.DominantTone(peer.heard.Samples(), 440, []float64{1000, 2000}, 10) {
				t.Errorf("the peer did not hear the manager's 440 Hz (%d samples)", len(peer.heard.Samples()))
			}
		}
	}
	if len(m.Calls()) != 0 {
		t.Errorf("calls after %s: %+v", file, m.Calls())
	}
	select {
	case extra := <-p.sent:
		t.Errorf("manager sent more than the transcript: %q", extra)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("runs calls with real audio")
	}
	for _, tc := range []struct{ file, me string }{
		{"wm5-order-a.txt", "bob"},
		{"wm5-order-a.txt", "alice"},
		{"wm5-order-b.txt", "bob"},
		{"wm5-decline.txt", "bob"},
		{"wm5-decline.txt", "alice"},
		{"wm5-withdraw.txt", "bob"},
		{"wm5-withdraw.txt", "alice"},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.file, tc.me), func(t *testing.T) { replay(t, tc.file, tc.me) })
	}
}

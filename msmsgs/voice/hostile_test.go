package voice

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
)

func inviteBody(cookie uint32) []byte {
	b, _ := NewInvite(cookie, NewSessionID()).Marshal()
	return b
}

func acceptBody(cookie uint32, addr string) []byte {
	return lines("Invitation-Command: ACCEPT", "Invitation-Cookie: "+strconv.Itoa(int(cookie)),
		"IP-Address: "+addr, "IP-Address-Enc64: "+base64.StdEncoding.EncodeToString([]byte(addr)))
}

func expectSent(t *testing.T, p *pipe, cmd, code string, cookie uint32) {
	t.Helper()
	select {
	case b := <-p.sent:
		inv, err := Parse(b)
		if err != nil || inv.Command != cmd || inv.CancelCode != code || inv.Cookie != cookie {
			t.Fatalf("sent %q (%v), want %s %s with cookie %d", b, err, cmd, code, cookie)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("nothing sent, want %s %s", cmd, code)
	}
}

func expectQuiet(t *testing.T, p *pipe) {
	t.Helper()
	select {
	case b := <-p.sent:
		t.Fatalf("sent %q, want nothing", b)
	case <-time.After(100 * time.Millisecond):
	}
}

func onlyCall(t *testing.T, m *Manager, id, phase string) {
	t.Helper()
	cs := m.Calls()
	if len(cs) != 1 || cs[0].ID != id || cs[0].Phase != phase {
		t.Fatalf("Calls() = %+v, want only %s in phase %s", cs, id, phase)
	}
}

func TestHostileInvitations(t *testing.T) {
	p := newPipe()
	m, rec := newTestManager(t, p, &audioEnds{freq: 440}, func(c *Config) { c.MaxInvites = 5 })
	const peer = "mallory@example.com"

	// Another application's invitation is not ours.
	ft := lines(replace(validInvite, "Application-GUID", "Application-GUID: {5D3E02AB-6190-11D3-BBBB-00C04F795683}")...)
	if m.Deliver("c1", peer, ft) {
		t.Fatal("Deliver(file transfer INVITE) = true, want false (not voice)")
	}
	expectQuiet(t, p)

	// A voice INVITE with fields missing is declined with a reason.
	if !m.Deliver("c1", peer, lines(replace(validInvite, "Session-ID", "")...)) {
		t.Fatal("Deliver(malformed voice INVITE) = false")
	}
	expectSent(t, p, CmdCancel, CancelFail, 77)
	if e := rec.wait(t, EventDeclined, time.Second); !strings.Contains(e.Reason, "Session-ID") {
		t.Errorf("call-declined reason %q, want it to name Session-ID", e.Reason)
	}
	if len(m.Calls()) != 0 {
		t.Fatalf("Calls() = %+v after a malformed INVITE", m.Calls())
	}

	// A good INVITE rings.
	m.Deliver("c1", peer, inviteBody(1000))
	id := rec.wait(t, EventOffer, time.Second).Call
	onlyCall(t, m, id, "ringing")

	// ACCEPTs that must change nothing: from someone else, with an address
	// that is no host, with an unknown cookie, unparsable.
	for _, tc := range []struct {
		from string
		body []byte
		want string
	}{
		{"eve@example.com", acceptBody(1000, "127.0.0.1:5000"), "for a call with"},
		{peer, acceptBody(1000, "0.0.0.0:6901"), "not a host address"},
		{peer, acceptBody(1000, "224.0.0.1:6901"), "not a host address"},
		{peer, acceptBody(1000, "127.0.0.1:0"), "port 0"},
		{peer, lines("Invitation-Command: ACCEPT", "Invitation-Cookie: 1000"), "without IP-Address"},
		{peer, lines("Invitation-Command: ACCEPT", "Invitation-Cookie: 1000", "IP-Address: 127.0.0.1:1", "IP-Address-Enc64: MTI3LjAuMC4xOjI="), "Enc64 says"},
		{peer, append(inviteBody(1000), "X: y\r\n"...), "cookie of a running call"},
		{peer, lines("Invitation-Command: CANCEL", "Invitation-Cookie: 1000", "Cancel-Code: X Y"), "Cancel-Code"},
		{peer, []byte("garbage without a colon\r\n"), "unparsable"},
	} {
		if !m.Deliver("c1", tc.from, tc.body) {
			t.Errorf("Deliver(%q) = false", tc.body)
		}
		if e := rec.wait(t, EventDeclined, time.Second); !strings.Contains(e.Reason, tc.want) {
			t.Errorf("Deliver(%q): call-declined %q, want it to mention %q", tc.body, e.Reason, tc.want)
		}
		expectQuiet(t, p)
		onlyCall(t, m, id, "ringing")
	}
	// ACCEPT and CANCEL of cookies we do not know go to other handlers
	// (a file transfer's ACCEPT carries no GUID).
	if m.Deliver("c1", peer, acceptBody(4242, "127.0.0.1:5000")) {
		t.Error("Deliver(ACCEPT of an unknown cookie) = true, want false (someone else's)")
	}

	// A second call while one rings: declined busy. Then a flood: after
	// MaxInvites per minute the rest are dropped, reported once.
	for i := range 30 {
		m.Deliver("c1", peer, inviteBody(uint32(2000+i)))
	}
	// Counted already: the malformed INVITE, the one ringing and the one
	// repeating its cookie; two more fit in MaxInvites.
	for i := range 2 {
		expectSent(t, p, CmdCancel, CancelBusy, uint32(2000+i))
	}
	expectQuiet(t, p)
	busy, flood := 0, 0
	for {
		select {
		case e := <-rec.c:
			switch {
			case strings.HasPrefix(e.Reason, "busy"):
				busy++
			case strings.Contains(e.Reason, "dropped"):
				flood++
			default:
				t.Errorf("unexpected event %+v", e)
			}
			continue
		case <-time.After(200 * time.Millisecond):
		}
		break
	}
	if busy != 2 || flood != 1 {
		t.Errorf("flood: %d busy and %d flood events, want 2 and 1", busy, flood)
	}
	onlyCall(t, m, id, "ringing")
	// Another conversation is not throttled by this one.
	m.Deliver("c2", "bob@example.com", inviteBody(3000))
	expectSent(t, p, CmdCancel, CancelBusy, 3000)

	// The real call still works: answer, and the caller's ACCEPT follows.
	if err := m.Answer(id); err != nil {
		t.Fatal(err)
	}
	expectSent(t, p, CmdAccept, "", 1000)
	onlyCall(t, m, id, "accepting")
}

// TestSIPFromElsewhere: a SIP INVITE from an address no ACCEPT announced is
// refused and the call waiting for its peer is unchanged. (The announced
// peer getting through is TestReplay.)
func TestSIPFromElsewhere(t *testing.T) {
	p := newPipe()
	m, rec := newTestManager(t, p, &audioEnds{freq: 440}, nil)
	intruder := newPeerPhone(t, "127.0.0.1:0")
	id, err := m.Call(context.Background(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := Parse(<-p.sent)
	// Bob announces 127.0.0.2; the intruder's connection comes from 127.0.0.1.
	m.Deliver("c1", "bob@example.com", acceptBody(inv.Cookie, "127.0.0.2:6901"))
	expectSent(t, p, CmdAccept, "", inv.Cookie)
	target := "sip:alice@127.0.0.1:" + strconv.Itoa(m.SIPPort())
	if c, err := intruder.Dial(context.Background(), target, rtc.CallOptions{Transport: "tcp"}); !errors.Is(err, rtc.ErrRejected) {
		t.Fatalf("intruder's SIP INVITE = %v, %v; want refused", c, err)
	}
	if e := rec.wait(t, EventDeclined, time.Second); !strings.Contains(e.Reason, "127.0.0.1") {
		t.Errorf("call-declined %q, want it to name 127.0.0.1", e.Reason)
	}
	onlyCall(t, m, id, "signalling")
	expectQuiet(t, p)
}

// TestEndings: the conversation closing, signing out, the peer hanging up
// and the peer vanishing each end the call with a reason.
func TestEndings(t *testing.T) {
	if testing.Short() {
		t.Skip("runs calls")
	}
	connect := func(t *testing.T, m *Manager, p *pipe, peerAddr string) {
		t.Helper()
		if _, err := m.Call(context.Background(), "bob@example.com"); err != nil {
			t.Fatal(err)
		}
		inv, _ := Parse(<-p.sent)
		m.Deliver("c1", "bob@example.com", acceptBody(inv.Cookie, peerAddr))
		<-p.sent // our ACCEPT
	}
	// connected is a call to a peer phone on 127.0.0.1 that has dialled
	// back and connected.
	connected := func(t *testing.T) (*pipe, *Manager, *recorder, *rtc.Call) {
		t.Helper()
		p := newPipe()
		m, rec := newTestManager(t, p, &audioEnds{freq: 440}, nil)
		ph := newPeerPhone(t, "127.0.0.1:0")
		connect(t, m, p, "127.0.0.1:"+strconv.Itoa(ph.Port("tcp")))
		c, err := ph.Dial(context.Background(), "sip:alice@127.0.0.1:"+strconv.Itoa(m.SIPPort()), rtc.CallOptions{Transport: "tcp"})
		if err != nil {
			t.Fatal(err)
		}
		rec.wait(t, EventConnected, 5*time.Second)
		return p, m, rec, c
	}
	t.Run("conversation closed", func(t *testing.T) {
		p, _, rec, c := connected(t)
		close(p.done)
		if e := rec.wait(t, EventEnded, 5*time.Second); e.Reason != "conversation closed" {
			t.Errorf("ended with reason %q, want conversation closed", e.Reason)
		}
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Error("the peer's SIP call stayed up")
		}
		expectQuiet(t, p)
	})
	t.Run("signed out", func(t *testing.T) {
		_, m, rec, c := connected(t)
		m.Close()
		if e := rec.wait(t, EventEnded, 5*time.Second); e.Reason != "signed out" {
			t.Errorf("ended with reason %q, want signed out", e.Reason)
		}
		<-c.Done()
		if _, err := m.Call(context.Background(), "bob@example.com"); !errors.Is(err, ErrClosed) {
			t.Errorf("Call after Close = %v, want ErrClosed", err)
		}
	})
	t.Run("peer hangs up", func(t *testing.T) {
		_, _, rec, c := connected(t)
		c.Hangup(context.Background())
		if e := rec.wait(t, EventEnded, 5*time.Second); e.Reason != "remote hang-up" {
			t.Errorf("ended with reason %q, want remote hang-up", e.Reason)
		}
	})
	t.Run("peer vanishes", func(t *testing.T) {
		p := newPipe()
		m, rec := newTestManager(t, p, &audioEnds{freq: 440}, func(c *Config) { c.MediaTimeout = 2 * time.Second })
		// The peer runs in another process that is killed: no BYE, no RTP.
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPeer$")
		cmd.Env = append(os.Environ(), "VOICE_HELPER_PEER=1")
		out, _ := cmd.StdoutPipe()
		in, _ := cmd.StdinPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		sc := bufio.NewScanner(out)
		if !sc.Scan() {
			t.Fatal("helper peer printed no port")
		}
		port := strings.TrimSpace(sc.Text())
		connect(t, m, p, "127.0.0.1:"+port)
		go func() {
			for sc.Scan() {
			}
		}()
		// The helper dials us when it reads our address on stdin.
		fmt.Fprintf(in, "127.0.0.1:%d\n", m.SIPPort())
		rec.wait(t, EventConnected, 10*time.Second)
		start := time.Now()
		cmd.Process.Signal(syscall.SIGKILL)
		e := rec.wait(t, EventEnded, 10*time.Second)
		if !strings.Contains(e.Reason, "vanished") {
			t.Errorf("reason %q, want the peer vanished", e.Reason)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("ended %s after the peer died, want within 5 s", d)
		}
	})
}

// TestHelperPeer is the vanishing peer of TestEndings, run as a child.
func TestHelperPeer(t *testing.T) {
	if os.Getenv("VOICE_HELPER_PEER") != "1" {
		return // only as TestEndings' child process
	}
	ph, err := rtc.New(rtc.Config{User: "peer", ListenAddr: "127.0.0.1:0", Transports: []string{"tcp"}, MediaTimeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println(ph.Port("tcp"))
	sc := bufio.NewScanner(os.Stdin)
	if !sc.Scan() {
		return
	}
	addr, err := netip.ParseAddrPort(strings.TrimSpace(sc.Text()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ph.Dial(context.Background(), "sip:alice@"+addr.String(), rtc.CallOptions{Transport: "tcp", Source: &audio.Tone{Freq: 1000}}); err != nil {
		t.Fatal(err)
	}
	select {}
}

// TestCodecRefused: a peer whose SIP offer has no codec we take ends the
// call with that reason instead of a connect timeout.
func TestCodecRefused(t *testing.T) {
	p := newPipe()
	m, rec := newTestManager(t, p, &audioEnds{freq: 440}, func(c *Config) { c.Codecs = []string{"PCMA"} })
	ph, err := rtc.New(rtc.Config{ListenAddr: "127.0.0.1:0", Transports: []string{"tcp"}, Codecs: []string{"PCMU"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ph.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ph.Close()
	id, err := m.Call(context.Background(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := Parse(<-p.sent)
	m.Deliver("c1", "bob@example.com", acceptBody(inv.Cookie, "127.0.0.1:"+strconv.Itoa(ph.Port("tcp"))))
	expectSent(t, p, CmdAccept, "", inv.Cookie)
	_, err = ph.Dial(context.Background(), "sip:alice@127.0.0.1:"+strconv.Itoa(m.SIPPort()), rtc.CallOptions{Transport: "tcp"})
	if !errors.Is(err, rtc.ErrNotAccepted) {
		t.Fatalf("peer's Dial = %v, want ErrNotAccepted", err)
	}
	e := rec.wait(t, EventEnded, 5*time.Second)
	if e.Call != id || !strings.Contains(e.Reason, "488") || !strings.Contains(e.Reason, "codec") {
		t.Errorf("call-ended = %+v, want the 488 codec refusal", e)
	}
	expectSent(t, p, CmdCancel, CancelFail, inv.Cookie)
}

// FuzzDeliver: whatever arrives on the switchboard, Deliver does not panic
// and never holds more than one call.
func FuzzDeliver(f *testing.F) {
	for _, fn := range []string{"wm5-order-a.txt", "wm5-order-b.txt", "wm5-decline.txt"} {
		for _, b := range readTranscript(f, fn) {
			if b.kind == "MSG" {
				f.Add(b.from, b.body(f))
			}
		}
	}
	f.Add("mallory@example.com", lines(validAccept...))
	p := newPipe()
	go func() {
		for range p.sent {
		}
	}()
	m, _ := newTestManager(f, p, &audioEnds{freq: 440}, func(c *Config) { c.MaxInvites = 1 << 30; c.OnEvent = nil })
	f.Fuzz(func(t *testing.T, from string, body []byte) {
		m.Deliver("c1", from, body)
		if n := len(m.Calls()); n > 1 {
			t.Fatalf("%d calls after Deliver(%q, %q)", n, from, body)
		}
	})
}

package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// These tests play scripted MSNP8 server conversations (lines as captured
// from the .NET Messenger Service and documented on hypothetic.org) to
// check how the client copes with variants the lab server does not
// produce: XFR NS redirects, JOI before IRO, non-numeric session ids,
// CHL, OUT OTH, NAK and lost keepalives. The full stack against the real
// messengerd is tested in the msmsgs package.

// peer is the server side of one scripted connection.
type peer struct {
	t *testing.T
	c net.Conn
	r *msnp.Reader
}

func (p *peer) expect(name string) msnp.Command {
	p.t.Helper()
	_ = p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	cmd, err := p.r.ReadCommand()
	if err != nil {
		panic(fmt.Sprintf("expect %s: %v", name, err))
	}
	if cmd.Name != name {
		panic(fmt.Sprintf("got %s, want %s", cmd, name))
	}
	return cmd
}

func (p *peer) send(format string, args ...any) {
	if _, err := io.WriteString(p.c, fmt.Sprintf(format, args...)+"\r\n"); err != nil {
		panic(fmt.Sprintf("send: %v", err))
	}
}

func (p *peer) sendMsg(from, name string, m *msnp.Message) {
	b, err := m.Bytes()
	if err != nil {
		panic(err)
	}
	if _, err := fmt.Fprintf(p.c, "MSG %s %s %d\r\n%s", from, name, len(b), b); err != nil {
		panic(err)
	}
}

// server accepts connections and runs script on each, in order.
type server struct {
	ln   net.Listener
	wg   sync.WaitGroup
	errs chan error
}

func newServer(t *testing.T, scripts ...func(p *peer)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln, errs: make(chan error, len(scripts)+1)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, sc := range scripts {
			c, err := ln.Accept()
			if err != nil {
				s.errs <- fmt.Errorf("accept: %w", err)
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				defer func() {
					if r := recover(); r != nil {
						s.errs <- fmt.Errorf("script: %v", r)
					}
				}()
				r := msnp.NewReader(c)
				sc(&peer{t: t, c: c, r: r})
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		close(s.errs)
		for err := range s.errs {
			t.Error(err)
		}
	})
	return s
}

func (s *server) addr() string { return s.ln.Addr().String() }

func testConfig(server string) Config {
	return Config{
		Server:   server,
		Account:  "alice@example.com",
		Password: "pw",
		Login: func(ctx context.Context, account, password, challenge string) (string, error) {
			if password != "pw" {
				return "", errors.New("passport: sign-in refused: wrong account name or password")
			}
			if !strings.HasPrefix(challenge, "lc=1033,id=507") {
				return "", fmt.Errorf("challenge %q", challenge)
			}
			return "t=ticket&p=profile", nil
		},
		Logger:       slog.New(slog.NewTextHandler(testLog, &slog.HandlerOptions{Level: slog.LevelDebug})),
		CallTimeout:  10 * time.Second,
		AckTimeout:   10 * time.Second,
		PingInterval: time.Hour,
		BackoffMin:   50 * time.Millisecond,
		BackoffMax:   200 * time.Millisecond,
	}
}

const twnChallenge = "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619"

// signIn plays the NS sign-in up to the initial CHG and its ILN replies.
func signIn(p *peer, lst ...string) {
	v := p.expect("VER")
	p.send("VER %d MSNP8 CVR0", v.TrID)
	c := p.expect("CVR")
	p.send("CVR %d 5.0.0540 5.0.0540 1.0.0863 http://download.microsoft.com/msn.msi http://messenger.msn.com", c.TrID)
	u := p.expect("USR")
	p.send("USR %d TWN S %s", u.TrID, twnChallenge)
	u = p.expect("USR")
	if u.Arg(2) != "t=ticket&p=profile" {
		panic(fmt.Sprintf("ticket %q", u.Arg(2)))
	}
	p.send("USR %d OK alice@example.com Alice%%20A 1 0", u.TrID)
	s := p.expect("SYN")
	p.send("SYN %d 42 %d 1", s.TrID, len(lst))
	p.send("GTC A")
	p.send("BLP AL")
	p.send("LSG 0 Other%%20Contacts 0")
	for _, l := range lst {
		p.send("%s", l)
	}
	ch := p.expect("CHG")
	p.send("CHG %d %s 0", ch.TrID, ch.Arg(0))
	p.send("ILN %d BSY bob@example.com Bob", ch.TrID)
}

func waitEvent(t *testing.T, sub *Subscription, typ string, ok func(Event) bool) Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, open := <-sub.C:
			if !open {
				t.Fatalf("subscription closed waiting for %s", typ)
			}
			if e.Type == typ && (ok == nil || ok(e)) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within 20s", typ)
		}
	}
}

// startClient runs a client of cfg until the test ends and subscribes to
// its events.
func startClient(t *testing.T, cfg Config) (*Client, *Subscription) {
	t.Helper()
	cl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub, _, _ := cl.Subscribe(4096)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cl.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		sub.Close()
	})
	return cl, sub
}

func TestSignInRedirectPresenceAndOUT(t *testing.T) {
	var ns *server
	dispatch := newServer(t, func(p *peer) {
		v := p.expect("VER")
		p.send("VER %d MSNP8 CVR0", v.TrID)
		c := p.expect("CVR")
		p.send("CVR %d 5.0.0540 5.0.0540 1.0.0863 x y", c.TrID)
		u := p.expect("USR")
		p.send("XFR %d NS %s 0 127.0.0.1:1863", u.TrID, ns.addr())
	})
	ns = newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0", "LST carol@example.com Carol 13 0")
		p.send("CHL 0 15570131571988941333")
		q := p.expect("QRY")
		if q.Arg(0) != msnp.ProductID || string(q.Payload) != "8f2f5a91b72102cd28355e9fc9000d6e" {
			panic(fmt.Sprintf("QRY %s %q", q, q.Payload))
		}
		p.send("QRY %d", q.TrID)
		p.send("NLN AWY carol@example.com Carol%%20C")
		p.send("FLN bob@example.com")
		p.send("ADD 0 RL 43 dave@example.com Dave")
		p.send("OUT OTH")
	})
	cl, err := New(testConfig(dispatch.addr()))
	if err != nil {
		t.Fatal(err)
	}
	sub, _, _ := cl.Subscribe(256)
	done := make(chan error, 1)
	go func() { done <- cl.Run(context.Background()) }()

	e := waitEvent(t, sub, EventSignedIn, nil)
	if e.Name != "Alice A" {
		t.Errorf("signed-in name = %q, want Alice A", e.Name)
	}
	waitEvent(t, sub, EventPresence, func(e Event) bool { return e.Account == "bob@example.com" && e.Status == "BSY" })
	waitEvent(t, sub, EventPresence, func(e Event) bool {
		return e.Account == "carol@example.com" && e.Status == "AWY" && e.Name == "Carol C"
	})
	waitEvent(t, sub, EventPresence, func(e Event) bool { return e.Account == "bob@example.com" && e.Status == "FLN" })
	waitEvent(t, sub, EventAddedBy, func(e Event) bool { return e.Account == "dave@example.com" })
	e = waitEvent(t, sub, EventDisconnected, nil)
	if e.Reason != "OTH" {
		t.Errorf("disconnected reason = %q, want OTH", e.Reason)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrSignedInElsewhere) {
			t.Errorf("Run() = %v, want ErrSignedInElsewhere", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after OUT OTH")
	}
	cs := cl.Contacts()
	got := map[string]string{}
	for _, c := range cs {
		got[c.Account] = fmt.Sprint(c.Lists)
	}
	want := map[string]string{"bob@example.com": "[FL AL RL]", "carol@example.com": "[FL BL RL]", "dave@example.com": "[RL]"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Contacts()[%s] lists = %s, want %s", k, got[k], v)
		}
	}
	if g := cl.Groups(); len(g) != 1 || g[0].Name != "Other Contacts" {
		t.Errorf("Groups() = %v, want [{0 Other Contacts}]", g)
	}
}

func TestWrongPassword(t *testing.T) {
	tests := []struct {
		name   string
		pw     string
		script func(p *peer)
	}{
		{"passport 401", "bad", func(p *peer) {
			v := p.expect("VER")
			p.send("VER %d MSNP8 CVR0", v.TrID)
			c := p.expect("CVR")
			p.send("CVR %d 5.0.0540 5.0.0540 1.0.0863 x y", c.TrID)
			u := p.expect("USR")
			p.send("USR %d TWN S %s", u.TrID, twnChallenge)
		}},
		{"911 from server", "pw", func(p *peer) {
			v := p.expect("VER")
			p.send("VER %d MSNP8 CVR0", v.TrID)
			c := p.expect("CVR")
			p.send("CVR %d 5.0.0540 5.0.0540 1.0.0863 x y", c.TrID)
			u := p.expect("USR")
			p.send("USR %d TWN S %s", u.TrID, twnChallenge)
			u = p.expect("USR")
			p.send("911 %d", u.TrID)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.script)
			cfg := testConfig(s.addr())
			cfg.Password = tt.pw
			cl, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = cl.Run(ctx)
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("Run() = %v, want ErrAuth", err)
			}
			if werr := cl.WaitSignedIn(ctx); !errors.Is(werr, ErrAuth) {
				t.Errorf("WaitSignedIn() = %v, want ErrAuth", werr)
			}
			if strings.Contains(err.Error(), tt.pw+"@") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestConversations(t *testing.T) {
	var sb1, sb2 *server
	release := make(chan struct{})
	ns := newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0", "LST carol@example.com Carol 11 0")
		// Bob invites us; non-numeric session id, JOI before IRO.
		p.send("RNG 11752013-abc %s CKI 849102291.520491113 bob@example.com Bob", sb1.addr())
		// Then we open one with carol.
		x := p.expect("XFR")
		p.send("XFR %d SB %s CKI 17262740.1050826919.32308", x.TrID, sb2.addr())
		<-release
	})
	sb1 = newServer(t, func(p *peer) {
		a := p.expect("ANS")
		if a.Arg(0) != "alice@example.com" || a.Arg(1) != "849102291.520491113" || a.Arg(2) != "11752013-abc" {
			panic(fmt.Sprintf("ANS %s", a))
		}
		p.send("JOI bob@example.com Bob")
		p.send("IRO %d 1 1 bob@example.com Bob", a.TrID)
		p.send("ANS %d OK", a.TrID)
		p.sendMsg("bob@example.com", "Bob", msnp.NewTypingMessage("bob@example.com"))
		p.sendMsg("bob@example.com", "Bob", msnp.NewTextMessage("hello alice"))
		inv, _ := msnp.NewInviteMessage(msnp.Header{{Key: "Application-Name", Value: "Whiteboard"}, {Key: "Application-GUID", Value: "{1DF57D09-637A-4ca5-91B9-2C3EDAAF62FE}"},
			{Key: "Invitation-Command", Value: "INVITE"}, {Key: "Invitation-Cookie", Value: "77"}})
		p.sendMsg("bob@example.com", "Bob", inv)
		m := p.expect("MSG") // the CANCEL
		if mm, err := msnp.ParseMessage(m.Payload); err != nil || !strings.Contains(string(mm.Body), "Invitation-Command: CANCEL") {
			panic(fmt.Sprintf("want CANCEL, got %q", m.Payload))
		}
		// Our reply: ACK the first, NAK the second.
		m = p.expect("MSG")
		if m.Arg(0) != "A" {
			panic(fmt.Sprintf("ack mode %q, want A", m.Arg(0)))
		}
		p.send("ACK %d", m.TrID)
		m = p.expect("MSG")
		p.send("NAK %d", m.TrID)
		// Third: close before ACK.
		p.expect("MSG")
	})
	sb2 = newServer(t, func(p *peer) {
		u := p.expect("USR")
		p.send("USR %d OK alice@example.com Alice", u.TrID)
		c := p.expect("CAL")
		p.send("CAL %d RINGING 11752099", c.TrID)
		p.send("JOI carol@example.com Carol")
		m := p.expect("MSG")
		p.send("ACK %d", m.TrID)
		p.send("BYE carol@example.com")
	})
	defer close(release)
	cl, sub := startClient(t, testConfig(ns.addr()))
	waitEvent(t, sub, EventTyping, func(e Event) bool { return e.Account == "bob@example.com" })
	e := waitEvent(t, sub, EventMessage, nil)
	if e.Account != "bob@example.com" || e.Text != "hello alice" || e.Name != "Bob" {
		t.Errorf("message event = %+v, want hello alice from bob", e)
	}
	waitEvent(t, sub, EventInvitation, func(e Event) bool { return e.Reason == "declined" && e.Text == "Whiteboard" })
	if got := cl.Conversations(); len(got) != 1 || strings.Join(got[0].Members, ",") != "bob@example.com" {
		t.Errorf("Conversations() = %v, want one with bob", got)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer scancel()
	if err := cl.Send(sctx, "bob@example.com", "hi bob"); err != nil {
		t.Errorf("Send(acked) = %v, want nil", err)
	}
	if err := cl.Send(sctx, "bob@example.com", "second"); !errors.Is(err, ErrUndelivered) || !strings.Contains(err.Error(), "NAK") {
		t.Errorf("Send(NAKed) = %v, want ErrUndelivered (NAK)", err)
	}
	if err := cl.Send(sctx, "bob@example.com", "third"); !errors.Is(err, ErrUndelivered) {
		t.Errorf("Send(closed before ACK) = %v, want ErrUndelivered", err)
	}
	waitEvent(t, sub, EventUndelivered, func(e Event) bool { return e.Text == "third" })
	// A new conversation with carol (XFR SB, USR, CAL, JOI).
	if err := cl.Send(sctx, "carol@example.com", "hi carol"); err != nil {
		t.Errorf("Send(carol) = %v, want nil", err)
	}
	waitEvent(t, sub, EventLeft, func(e Event) bool { return e.Account == "carol@example.com" })
	if err := cl.Send(sctx, "bob@example.com", strings.Repeat("x", MaxText+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("Send(too long) = %v, want ErrTooLong", err)
	}
}

func TestKeepaliveReconnect(t *testing.T) {
	second := make(chan struct{})
	ns := newServer(t,
		func(p *peer) {
			signIn(p)
			p.expect("PNG") // never answered
			_ = p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, _ = p.r.ReadCommand() // until the client hangs up
		},
		func(p *peer) {
			signIn(p)
			p.expect("PNG")
			p.send("QNG 50")
			close(second)
			_ = p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, _ = p.r.ReadCommand()
		})
	cfg := testConfig(ns.addr())
	cfg.PingInterval = 200 * time.Millisecond
	cfg.PingTimeout = 300 * time.Millisecond
	_, sub := startClient(t, cfg)
	waitEvent(t, sub, EventSignedIn, nil)
	e := waitEvent(t, sub, EventDisconnected, nil)
	if e.Reason != "lost" || !strings.Contains(e.Error, "keepalive") {
		t.Errorf("disconnected = %q (%q), want lost (keepalive)", e.Reason, e.Error)
	}
	waitEvent(t, sub, EventSignedIn, nil)
	<-second
}

func TestBoundedInput(t *testing.T) {
	ns := newServer(t, func(p *peer) {
		signIn(p)
		p.send("NLN %s", strings.Repeat("A", 10000)) // over-long line
		_ = p.c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, _ = p.r.ReadCommand()
	})
	_, sub := startClient(t, testConfig(ns.addr()))
	e := waitEvent(t, sub, EventDisconnected, nil)
	if !strings.Contains(e.Error, "too long") {
		t.Errorf("disconnected error = %q, want a line-too-long protocol error", e.Error)
	}
}

var testLog io.Writer = io.Discard

// TestServerQRYAck checks that the server's payload-less "QRY trid"
// acknowledgement (as the .NET Messenger Service sends it) does not
// desynchronise the reader.
func TestServerQRYAck(t *testing.T) {
	r := msnp.NewReader(strings.NewReader("QRY 1049\r\nNLN AWY carol@example.com Carol\r\n"))
	r.MaxPayload = msnp.MaxServerPayload
	c, err := r.ReadCommand()
	if err != nil || c.Name != "QRY" || len(c.Payload) != 0 {
		t.Fatalf("ReadCommand() = %s with %d payload bytes, %v; want the bare QRY acknowledgement", c, len(c.Payload), err)
	}
	if c, err := r.ReadCommand(); err != nil || c.Name != "NLN" {
		t.Errorf("after QRY ack, ReadCommand() = %s, %v, want NLN", c, err)
	}
}

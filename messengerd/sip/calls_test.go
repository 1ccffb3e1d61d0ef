package sip

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
)

const testOffer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"

// callee signs in with a handler that passes the forwarded call requests
// on a channel.
func callee(t *testing.T, l *lab, user, pass string) (*sipua.UA, chan *sipmsg.Message) {
	t.Helper()
	ch := make(chan *sipmsg.Message, 16)
	cfg := l.account(user, pass)
	cfg.OnDialog = func(_ *sipua.UA, m *sipmsg.Message) { ch <- m }
	ua, err := sipua.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	return ua, ch
}

func next(t *testing.T, ch chan *sipmsg.Message, method string) *sipmsg.Message {
	t.Helper()
	select {
	case m := <-ch:
		if m.Method != method {
			t.Fatalf("got %s, want %s", m.Method, method)
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", method)
	}
	return nil
}

func invite(ua *sipua.UA, to, body string) *sipmsg.Message {
	req := ua.NewRequest("INVITE", to, to, "call-"+randHex(6))
	req.Add("Contact", ua.Contact())
	if body != "" {
		req.Add("Content-Type", "application/sdp")
		req.Body = []byte(body)
	}
	return req
}

// TestCallRouting: an INVITE from alice reaches bob's registered
// connection with its SDP; bob's signed 180 and 200 reach alice; her ACK
// and bob's BYE follow the same path.
func TestCallRouting(t *testing.T) {
	l := startLab(t, nil)
	alice, aliceIn := callee(t, l, "alice", "alice-pass")
	bob, bobIn := callee(t, l, "bob", "bob-pass")
	ctx := context.Background()

	req := invite(alice, "sip:bob@lab.test", testOffer)
	type answer struct {
		m   *sipmsg.Message
		err error
	}
	got := make(chan answer, 1)
	var rang []int
	go func() {
		m, err := alice.Invite(ctx, req, func(r *sipmsg.Message) { rang = append(rang, r.Code) })
		got <- answer{m, err}
	}()
	in := next(t, bobIn, "INVITE")
	if string(in.Body) != testOffer || sipmsg.AddrURI(in.Get("From")) != "sip:alice@lab.test" || in.Get("Call-ID") != req.Get("Call-ID") {
		t.Fatalf("bob got INVITE %q from %s call %s", in.Body, in.Get("From"), in.Get("Call-ID"))
	}
	if p, _ := l.srv.Calls(); p != 1 {
		t.Errorf("server: %d calls being set up, want 1", p)
	}
	if err := bob.Respond(in, 180, "Ringing", nil); err != nil {
		t.Fatal(err)
	}
	if err := bob.Respond(in, 200, "OK", []byte(testOffer), "Content-Type", "application/sdp", "Contact", bob.Contact()); err != nil {
		t.Fatal(err)
	}
	a := <-got
	if a.err != nil || a.m.Code != 200 || string(a.m.Body) != testOffer || sipmsg.Param(a.m.Get("To"), "tag") != bob.Tag() {
		t.Fatalf("alice's INVITE = %+v, %v; want bob's signed 200 with his SDP and tag", a.m, a.err)
	}
	if len(rang) != 2 || rang[0] != 100 || rang[1] != 180 {
		t.Errorf("alice saw provisional answers %v, want [100 180]", rang)
	}
	if _, e := l.srv.Calls(); e != 1 {
		t.Errorf("server: %d calls established, want 1", e)
	}
	ack := alice.NewRequest("ACK", "sip:bob@lab.test", "sip:bob@lab.test", req.Get("Call-ID"))
	ack.Set("To", a.m.Get("To"))
	if err := alice.Send(ack); err != nil {
		t.Fatal(err)
	}
	next(t, bobIn, "ACK")

	bye := bob.NewRequest("BYE", "sip:alice@lab.test", "sip:alice@lab.test", req.Get("Call-ID"))
	bye.Set("To", req.Get("From"))
	done := make(chan answer, 1)
	go func() { m, err := bob.Do(ctx, bye); done <- answer{m, err} }()
	b := next(t, aliceIn, "BYE")
	if err := alice.Respond(b, 200, "OK", nil); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err != nil || r.m.Code != 200 {
		t.Errorf("bob's BYE = %+v, %v, want 200", r.m, r.err)
	}
	if p, e := l.srv.Calls(); p+e != 0 {
		t.Errorf("server after BYE: %d pending, %d established calls, want none", p, e)
	}
}

// TestHostileInvites: INVITEs the server must not forward are refused
// with a code and a Warning that says why, and change nothing else.
func TestHostileInvites(t *testing.T) {
	l := startLab(t, func(c *Config) { c.MaxPendingInvites = 2 })
	alice, _ := callee(t, l, "alice", "alice-pass")
	ctx := context.Background()
	// bob signs in once and leaves: known, not signed in.
	bob, err := sipua.Dial(ctx, l.account("bob", "bob-pass"))
	if err != nil {
		t.Fatal(err)
	}
	bob.Close()
	for _, tt := range []struct {
		name, to, body string
		mod            func(*sipmsg.Message)
		code           int
		says           string
	}{
		{"no SDP", "sip:bob@lab.test", "", nil, 415, "application/sdp"},
		{"malformed SDP", "sip:bob@lab.test", "v=0\r\nm=audio banana RTP/AVP 0\r\n", nil, 400, "malformed SDP"},
		{"no audio", "sip:bob@lab.test", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\n", nil, 488, "no audio"},
		{"other domain", "sip:bob@elsewhere.test", testOffer, nil, 404, "not an address in lab.test"},
		{"never signed in", "sip:mallory@lab.test", testOffer, nil, 404, "has not signed in"},
		{"signed out", "sip:bob@lab.test", testOffer, nil, 480, "not signed in"},
		{"yourself", "sip:alice@lab.test", testOffer, nil, 486, "yourself"},
		{"huge Call-ID", "sip:bob@lab.test", testOffer, func(m *sipmsg.Message) { m.Set("Call-ID", strings.Repeat("x", 300)) }, 400, "Call-ID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := invite(alice, tt.to, tt.body)
			if tt.mod != nil {
				tt.mod(req)
			}
			r, err := alice.Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != tt.code || !strings.Contains(r.Get("Warning"), tt.says) {
				t.Errorf("INVITE = %d %s (Warning %q), want %d saying %q", r.Code, r.Reason, r.Get("Warning"), tt.code, tt.says)
			}
		})
	}
	if p, e := l.srv.Calls(); p+e != 0 {
		t.Errorf("server: %d pending, %d established calls after refusals, want none", p, e)
	}
}

// TestPendingInviteBound: a caller with MaxPendingInvites calls ringing
// gets 503 for the next; a callee that vanishes while ringing ends the
// caller's INVITE with 480.
func TestPendingInviteBound(t *testing.T) {
	l := startLab(t, func(c *Config) { c.MaxPendingInvites = 2 })
	alice, _ := callee(t, l, "alice", "alice-pass")
	bob, bobIn := callee(t, l, "bob", "bob-pass")
	ctx := context.Background()
	results := make(chan *sipmsg.Message, 3)
	for i := 0; i < 2; i++ {
		go func() {
			r, err := alice.Invite(ctx, invite(alice, "sip:bob@lab.test", testOffer), nil)
			if err != nil {
				t.Error(err)
			}
			results <- r
		}()
		next(t, bobIn, "INVITE")
	}
	r, err := alice.Do(ctx, invite(alice, "sip:bob@lab.test", testOffer))
	if err != nil || r.Code != 503 || !strings.Contains(r.Get("Warning"), "limit 2") {
		t.Fatalf("third INVITE = %+v, %v, want 503 naming the limit", r, err)
	}
	bob.Close()
	for i := 0; i < 2; i++ {
		select {
		case r := <-results:
			if r == nil || r.Code != 480 {
				t.Errorf("ringing INVITE after the callee left = %+v, want 480", r)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("ringing INVITEs not ended after the callee left")
		}
	}
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p, _ := l.srv.Calls()
		if p == 0 {
			break
		}
		if time.Now().After(end) {
			t.Errorf("server: %d calls pending 5s after the callee left", p)
			break
		}
	}
}

// FuzzCheckInvite: whatever an INVITE carries, the check returns a target
// in the domain or a refusal with a code, and never panics.
func FuzzCheckInvite(f *testing.F) {
	f.Add("sip:bob@lab.test", "application/sdp", "call-1", testOffer)
	f.Add("sip:bob@lab.test", "application/sdp", "call-1", "v=0\r\nm=audio x RTP/AVP 0\r\n")
	f.Add("sip:@lab.test", "application/sdp; charset=x", "", "")
	f.Add("tel:+123", "text/plain", "c", "hello")
	f.Add("sip:bob@lab.test;transport=tcp", "APPLICATION/SDP", strings.Repeat("c", 300), testOffer)
	f.Fuzz(func(t *testing.T, uri, ct, callID, body string) {
		m := &sipmsg.Message{Method: "INVITE", URI: uri}
		m.Add("Content-Type", ct)
		m.Add("Call-ID", callID)
		m.Body = []byte(body)
		target, bad := checkInvite(m, "sip:alice@lab.test", "lab.test")
		switch {
		case bad != nil && (bad.code < 400 || bad.code > 699 || bad.warning == ""):
			t.Fatalf("refusal %+v", bad)
		case bad == nil && (!strings.HasSuffix(target, "@lab.test") || target == "sip:alice@lab.test"):
			t.Fatalf("routed to %q", target)
		}
	})
}

// TestUnsignedAnswerDropped: the callee's answers must carry its
// signature: an unsigned (or wrongly signed) 200 is not forwarded; the
// signed one that follows is.
func TestUnsignedAnswerDropped(t *testing.T) {
	l := startLab(t, nil)
	alice, _ := callee(t, l, "alice", "alice-pass")
	bob := dialRaw(t, l.addr)
	sa := bob.signIn(l, "bob", "bob-pass")
	got := make(chan *sipmsg.Message, 1)
	go func() {
		r, err := alice.Invite(context.Background(), invite(alice, "sip:bob@lab.test", testOffer), nil)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	_ = bob.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var in *sipmsg.Message
	for in == nil {
		m, err := sipmsg.Read(bob.br, sipmsg.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if m.Method == "INVITE" {
			in = m
		}
	}
	if err := sa.VerifyServer(in); err != nil {
		t.Errorf("the forwarded INVITE is not signed by the server: %v", err)
	}
	forged := sipmsg.NewResponse(in, 200, "OK")
	forged.Set("To", in.Get("To")+";tag=forged")
	forged.Add("Content-Type", "application/sdp")
	forged.Body = []byte(testOffer)
	if _, err := bob.c.Write(forged.Bytes()); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		t.Fatalf("alice got the unsigned answer %d %s", r.Code, r.Reason)
	case <-time.After(300 * time.Millisecond):
	}
	busy := sipmsg.NewResponse(in, 486, "Busy Here")
	busy.Set("To", in.Get("To")+";tag=bob1")
	if err := sa.SignRequest(busy); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.Write(busy.Bytes()); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-got:
		if r == nil || r.Code != 486 {
			t.Errorf("alice's INVITE = %+v, want bob's signed 486", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the signed answer did not reach alice")
	}
}

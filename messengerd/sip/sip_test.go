package sip

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

type lab struct {
	realm  *kdctest.Realm
	srv    *Server
	addr   string
	now    atomic.Int64 // service clock offset
	keytab string
}

func startLab(t testing.TB, mod func(*Config)) *lab {
	r := kdctest.Start(t)
	r.AddUser(t, "alice", "alice-pass")
	r.AddUser(t, "bob", "bob-pass")
	l := &lab{realm: r, keytab: r.AddService(t, "sip/lab.test", "")}
	cfg := Config{Domain: "lab.test", Service: "sip/lab.test", Keytab: l.keytab,
		Now:  func() time.Time { return time.Now().Add(time.Duration(l.now.Load())) },
		Logf: func(f string, a ...any) { t.Logf("server: "+f, a...) }}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	l.srv, l.addr = srv, ln.Addr().String()
	return l
}

func (l *lab) account(user, pass string) sipua.Config {
	return sipua.Config{URI: "sip:" + user + "@lab.test", Server: l.addr, Timeout: 5 * time.Second,
		Kerberos: kerberos.Config{Realm: l.realm.Name, KDCs: []string{l.realm.KDC}, Password: pass, AllowRC4: true}}
}

func waitEvent(t *testing.T, ua *sipua.UA, want func(sipua.Event) bool, what string) sipua.Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e, ok := <-ua.Events():
			if !ok {
				t.Fatalf("%s: events closed while waiting for %s", ua.URI(), what)
			}
			if want(e) {
				return e
			}
		case <-deadline:
			t.Fatalf("%s: no %s within 10s", ua.URI(), what)
		}
	}
}

func presence(from, status string) func(sipua.Event) bool {
	return func(e sipua.Event) bool { return e.Type == "presence" && e.From == from && e.Status == status }
}

// TestTwoClientsAgainstMITKDC signs two accounts in with each session key
// type the KDC issues, lets them watch each other and exchange messages.
func TestTwoClientsAgainstMITKDC(t *testing.T) {
	l := startLab(t, nil)
	ctx := context.Background()
	for _, et := range []int32{etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.RC4_HMAC} {
		t.Run(kerberos.EnctypeName(et), func(t *testing.T) {
			ac, bc := l.account("alice", "alice-pass"), l.account("bob", "bob-pass")
			ac.Kerberos.Enctypes, bc.Kerberos.Enctypes = []int32{et}, []int32{et}
			alice, err := sipua.Dial(ctx, ac)
			if err != nil {
				t.Fatalf("Dial(alice) = %v", err)
			}
			defer alice.Close()
			t.Logf("alice signed in: %+v", alice.LastSignIn())
			if alice.Enctype() != et {
				t.Fatalf("alice's SA uses etype %d, want %d", alice.Enctype(), et)
			}
			if err := alice.Subscribe(ctx, "sip:bob@lab.test"); err != nil {
				t.Fatalf("alice Subscribe(bob) = %v", err)
			}
			waitEvent(t, alice, presence("sip:bob@lab.test", "offline"), "bob offline")
			bob, err := sipua.Dial(ctx, bc)
			if err != nil {
				t.Fatalf("Dial(bob) = %v", err)
			}
			waitEvent(t, alice, presence("sip:bob@lab.test", "online"), "bob online")
			if err := bob.Subscribe(ctx, "sip:alice@lab.test"); err != nil {
				t.Fatalf("bob Subscribe(alice) = %v", err)
			}
			waitEvent(t, bob, presence("sip:alice@lab.test", "online"), "alice online")
			if err := bob.SetPresence(ctx, "busy"); err != nil {
				t.Fatalf("bob SetPresence(busy) = %v", err)
			}
			waitEvent(t, alice, presence("sip:bob@lab.test", "busy"), "bob busy")
			if err := alice.SendMessage(ctx, "sip:bob@lab.test", "hello, bob ✓"); err != nil {
				t.Fatalf("alice SendMessage = %v", err)
			}
			e := waitEvent(t, bob, func(e sipua.Event) bool { return e.Type == "message" }, "a message")
			if e.From != "sip:alice@lab.test" || e.Text != "hello, bob ✓" {
				t.Errorf("bob got %+v", e)
			}
			if err := bob.SendMessage(ctx, "sip:alice@lab.test", "hi alice"); err != nil {
				t.Fatalf("bob SendMessage = %v", err)
			}
			waitEvent(t, alice, func(e sipua.Event) bool { return e.Type == "message" && e.Text == "hi alice" }, "bob's answer")
			bob.Close()
			waitEvent(t, alice, presence("sip:bob@lab.test", "offline"), "bob offline after Close")
			if err := alice.SendMessage(ctx, "sip:bob@lab.test", "gone?"); !errors.Is(err, sipua.ErrRejected) || !strings.Contains(err.Error(), "480") {
				t.Errorf("SendMessage(to offline bob) = %v, want 480", err)
			}
		})
	}
}

func TestSignInErrors(t *testing.T) {
	l := startLab(t, nil)
	ctx := context.Background()
	dead := proxytest.ClosedAddr(t)
	for _, tt := range []struct {
		name  string
		mod   func(*sipua.Config)
		shift time.Duration // service clock
		want  error
		says  string
	}{
		{"wrong password", func(c *sipua.Config) { c.Kerberos.Password = "nope" }, 0, kerberos.ErrCredentials, "check the password"},
		{"unknown principal", func(c *sipua.Config) { c.URI = "sip:mallory@lab.test" }, 0, kerberos.ErrUnknownUser, "does not know mallory@LAB.TEST"},
		{"KDC unreachable", func(c *sipua.Config) { c.Kerberos.KDCs = []string{dead} }, 0, kerberos.ErrUnreachable, dead},
		{"SIP server unreachable", func(c *sipua.Config) { c.Server = dead }, 0, sipua.ErrClosed, dead},
		{"device clock 10m behind the server (client side)", func(c *sipua.Config) { c.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) } }, 0, kerberos.ErrClockSkew, "SIP server clock is"},
		{"service clock 6m ahead (service side)", func(c *sipua.Config) { c.Now = func() time.Time { return time.Now().Add(6 * time.Minute) } }, 6 * time.Minute, sipua.ErrRejected, "client clock is 6m0s behind"},
		{"ticket expired by the service clock", func(c *sipua.Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } }, 2 * time.Hour, sipua.ErrRejected, "get a new ticket"},
		{"principal for another user", func(c *sipua.Config) { c.URI = "sip:bob@lab.test"; c.Kerberos.Principal = "alice" }, 0, sipua.ErrRejected, "may not register sip:bob@lab.test"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l.now.Store(int64(tt.shift))
			defer l.now.Store(0)
			c := l.account("alice", "alice-pass")
			tt.mod(&c)
			ua, err := sipua.Dial(ctx, c)
			if err == nil {
				ua.Close()
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Dial = %v\nwant %v saying %q", err, tt.want, tt.says)
			}
			var se *kerberos.SkewError
			if want := tt.shift; errors.As(err, &se) {
				if want == 0 {
					want = 10 * time.Minute
				}
				if se.Skew < want-2*time.Second || se.Skew > want+time.Second {
					t.Errorf("measured skew %v, want about %v", se.Skew, want)
				}
			}
			// The service's refusals carry a Kerberos error token whose
			// code the client turns into the matching error.
			switch {
			case tt.shift == 6*time.Minute && !errors.Is(err, kerberos.ErrClockSkew):
				t.Errorf("service-side skew: %v, want it to wrap ErrClockSkew too (from the KRB-ERROR token)", err)
			case tt.shift == 2*time.Hour && !errors.Is(err, kerberos.ErrExpired):
				t.Errorf("service-side expiry: %v, want it to wrap ErrExpired too (from the KRB-ERROR token)", err)
			}
		})
	}
}

// raw is a hand-driven client for hostile and exact-protocol tests.
type raw struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
	n  int
}

func dialRaw(t testing.TB, addr string) *raw {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &raw{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *raw) req(method, uri, from string) *sipmsg.Message {
	r.n++
	m := &sipmsg.Message{Method: method, URI: uri}
	m.Add("Via", "SIP/2.0/TCP "+r.c.LocalAddr().String()+";branch=z9hG4bKraw"+fmt.Sprint(r.n))
	m.Add("From", "<"+from+">;tag=raw1")
	m.Add("To", "<"+uri+">")
	m.Add("Call-ID", "raw-call")
	m.Add("CSeq", fmt.Sprintf("%d %s", r.n, method))
	return m
}

func (r *raw) do(m *sipmsg.Message) (*sipmsg.Message, error) {
	if _, err := r.c.Write(m.Bytes()); err != nil {
		return nil, err
	}
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		resp, err := sipmsg.Read(r.br, sipmsg.Limits{})
		if err != nil {
			return nil, err
		}
		if !resp.IsRequest() && resp.Get("CSeq") == m.Get("CSeq") {
			return resp, nil
		}
	}
}

// signIn does the [MS-SIPAE] REGISTER exchange by hand.
func (r *raw) signIn(l *lab, user, pass string) *sipae.SA {
	t := r.t
	kc, err := kerberos.Login(kerberos.Config{Realm: l.realm.Name, KDCs: []string{l.realm.KDC}, Principal: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	aor := "sip:" + user + "@lab.test"
	resp, err := r.do(r.req("REGISTER", "sip:lab.test", aor))
	if err != nil || resp.Code != 401 {
		t.Fatalf("first REGISTER = %v, %v; want 401", resp, err)
	}
	_, ch, err := sipae.ParseHeader(resp.Get("WWW-Authenticate"))
	if err != nil || ch["realm"] != sipae.DefaultRealm || ch["targetname"] != "sip/lab.test" || ch["version"] != "3" || resp.Get("Date") == "" {
		t.Fatalf("challenge = %q (Date %q), %v", resp.Get("WWW-Authenticate"), resp.Get("Date"), err)
	}
	tok, key, err := kc.InitialContext("sip/lab.test")
	if err != nil {
		t.Fatal(err)
	}
	m := r.req("REGISTER", "sip:lab.test", aor)
	m.Add("Authorization", sipae.Format(sipae.AuthOrder, sipae.Params{"qop": "auth", "realm": ch["realm"], "targetname": ch["targetname"], "gssapi-data": base64.StdEncoding.EncodeToString(tok), "version": "3"}))
	resp, err = r.do(m)
	if err != nil || resp.Code != 200 {
		t.Fatalf("REGISTER with AP-REQ = %v, %v", resp, err)
	}
	_, info, _ := sipae.ParseHeader(resp.Get("Authentication-Info"))
	sa, err := sipae.NewSA(key, true, ch["realm"], ch["targetname"], info["opaque"])
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.VerifyServer(resp); err != nil {
		t.Fatalf("server rspauth: %v", err)
	}
	return sa
}

func TestSignaturesEnforced(t *testing.T) {
	l := startLab(t, nil)
	r := dialRaw(t, l.addr)
	sa := r.signIn(l, "alice", "alice-pass")
	sub := func() *sipmsg.Message {
		m := r.req("SUBSCRIBE", "sip:bob@lab.test", "sip:alice@lab.test")
		m.Add("Event", "presence")
		return m
	}
	// Unsigned: challenged again.
	if resp, err := r.do(sub()); err != nil || resp.Code != 401 {
		t.Fatalf("unsigned SUBSCRIBE = %v, %v; want 401", resp, err)
	}
	// Signed, then changed after signing: refused, saying why.
	m := sub()
	if err := sa.SignRequest(m); err != nil {
		t.Fatal(err)
	}
	m.Set("Expires", "1")
	resp, err := r.do(m)
	if err != nil || resp.Code != 401 || !strings.Contains(resp.Get("Warning"), "signature") {
		t.Fatalf("tampered SUBSCRIBE = %v (%q), %v; want 401 naming the signature", resp, resp.Get("Warning"), err)
	}
	// Properly signed: accepted, answer signed by the server.
	m = sub()
	_ = sa.SignRequest(m)
	resp, err = r.do(m)
	if err != nil || resp.Code != 200 {
		t.Fatalf("signed SUBSCRIBE = %v, %v", resp, err)
	}
	if err := sa.VerifyServer(resp); err != nil {
		t.Fatalf("server signature on 200: %v", err)
	}
	// The same signed bytes again: a replay.
	if _, err := r.c.Write(m.Bytes()); err != nil {
		t.Fatal(err)
	}
	for {
		resp, err = sipmsg.Read(r.br, sipmsg.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !resp.IsRequest() && resp.Get("CSeq") == m.Get("CSeq") {
			break
		}
	}
	if resp.Code != 401 || !strings.Contains(resp.Get("Warning"), "replayed") {
		t.Errorf("replayed SUBSCRIBE = %d %q, want 401 naming the replay", resp.Code, resp.Get("Warning"))
	}
}

func TestHostileInput(t *testing.T) {
	l := startLab(t, nil)
	ctx := context.Background()
	alice, err := sipua.Dial(ctx, l.account("alice", "alice-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()

	// Garbage closes only its own connection.
	g := dialRaw(t, l.addr)
	fmt.Fprint(g.c, "HELLO\r\n\r\n")
	_ = g.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := g.br.ReadByte(); err == nil {
		t.Error("server answered garbage instead of closing the connection")
	}
	// A gssapi-data that is not an AP-REQ, and an oversized one.
	r := dialRaw(t, l.addr)
	for _, tt := range []struct{ data, says string }{
		{base64.StdEncoding.EncodeToString([]byte("not a token")), "not a Kerberos AP-REQ"},
		{base64.StdEncoding.EncodeToString(make([]byte, kerberos.MaxTokenSize+1)), "1 to 65536"},
		{"!!!", "not base64"},
	} {
		m := r.req("REGISTER", "sip:lab.test", "sip:alice@lab.test")
		m.Add("Authorization", sipae.Format(sipae.AuthOrder, sipae.Params{"qop": "auth", "realm": sipae.DefaultRealm, "targetname": "sip/lab.test", "gssapi-data": tt.data, "version": "3"}))
		resp, err := r.do(m)
		if err != nil {
			t.Fatalf("REGISTER with gssapi-data %.20q: %v", tt.data, err)
		}
		if resp.Code != 403 || !strings.Contains(resp.Get("Warning"), tt.says) {
			t.Errorf("REGISTER with gssapi-data %.20q = %d (%q), want 403 saying %q", tt.data, resp.Code, resp.Get("Warning"), tt.says)
		}
	}
	// A header over the framing limit closes the connection.
	big := r.req("REGISTER", "sip:lab.test", "sip:alice@lab.test")
	big.Add("Authorization", "Kerberos gssapi-data=\""+strings.Repeat("A", 140<<10)+"\"")
	if resp, err := r.do(big); err == nil {
		t.Errorf("oversized REGISTER answered %d, want the connection closed", resp.Code)
	}
	// The service still serves the signed-in client.
	if err := alice.SetPresence(ctx, "away"); err != nil {
		t.Errorf("after hostile input, SetPresence = %v", err)
	}
}

func TestRegisterFlood(t *testing.T) {
	l := startLab(t, func(c *Config) { c.FloodClose = 100 })
	f := dialRaw(t, l.addr)
	var busy, closed int
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 400; i++ {
			m := f.req("REGISTER", "sip:lab.test", "sip:flood@lab.test")
			if _, err := f.c.Write(m.Bytes()); err != nil {
				closed++
				return
			}
		}
	}()
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for {
			resp, err := sipmsg.Read(f.br, sipmsg.Limits{})
			if err != nil {
				return
			}
			if resp.Code == 503 {
				busy++
			}
		}
	}()
	// Meanwhile a real client signs in.
	start := time.Now()
	alice, err := sipua.Dial(context.Background(), l.account("alice", "alice-pass"))
	if err != nil {
		t.Fatalf("Dial during a REGISTER flood = %v", err)
	}
	alice.Close()
	t.Logf("sign-in during the flood took %v", time.Since(start))
	<-done
	time.Sleep(200 * time.Millisecond)
	_ = f.c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := f.c.Write([]byte("\r\n\r\n")); err == nil {
		if _, err := f.br.ReadByte(); err == nil {
			t.Error("the flooding connection is still open")
		}
	}
	select {
	case <-readerDone:
	case <-time.After(5 * time.Second):
		t.Fatal("the flooding connection was not closed within 5 s")
	}
	if busy == 0 {
		t.Error("no 503 answers to the flood")
	}
}

// emfileListener fails its first Accept calls with EMFILE, as a process
// out of file descriptors does.
type emfileListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestServeSurvivesEMFILE: running out of file descriptors pauses the
// accept loop; it does not end it.
func TestServeSurvivesEMFILE(t *testing.T) {
	l := startLab(t, nil)
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &emfileListener{Listener: inner}
	ln.fails.Store(3)
	served := make(chan error, 1)
	go func() { served <- l.srv.Serve(ln) }()
	cfg := l.account("alice", "alice-pass")
	cfg.Server = inner.Addr().String()
	ua, err := sipua.Dial(context.Background(), cfg)
	if err != nil {
		select {
		case err := <-served:
			t.Fatalf("Serve returned %v after EMFILE", err)
		default:
		}
		t.Fatalf("Dial after EMFILE = %v", err)
	}
	ua.Close()
}

// TestAnswerAfterIdle: a client that has sent nothing for longer than its
// transaction timeout still answers the messages relayed to it (its
// answer once failed on the write deadline of its last request).
func TestAnswerAfterIdle(t *testing.T) {
	l := startLab(t, nil)
	ctx := context.Background()
	ac := l.account("alice", "alice-pass")
	ac.Timeout = time.Second
	alice, err := sipua.Dial(ctx, ac)
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	bob, err := sipua.Dial(ctx, l.account("bob", "bob-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	time.Sleep(1500 * time.Millisecond)
	if err := bob.SendMessage(ctx, "sip:alice@lab.test", "awake?"); err != nil {
		t.Fatalf("bob -> alice after alice was idle past her timeout: %v", err)
	}
	waitEvent(t, alice, func(e sipua.Event) bool { return e.Type == "message" && e.Text == "awake?" }, "the message")
}

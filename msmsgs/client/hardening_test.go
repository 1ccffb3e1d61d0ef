package client

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a TCP listener that accepts connections, never answers, and
// counts how many were open at once.
type counter struct {
	ln         net.Listener
	total, now atomic.Int64 // connections accepted, open now
	wg         sync.WaitGroup
}

func newCounter(t *testing.T) *counter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{ln: ln}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.total.Add(1)
			c.now.Add(1)
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				defer c.now.Add(-1)
				b := make([]byte, 512)
				for {
					if _, err := conn.Read(b); err != nil {
						conn.Close()
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return c
}

func (c *counter) addr() string { return c.ln.Addr().String() }

// countedConn counts itself out of open when closed.
type countedConn struct {
	net.Conn
	open *atomic.Int64
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// TestRingFromBlockedContact: an invitation to a switchboard from a
// contact on the block list is not answered; one from a contact is.
func TestRingFromBlockedContact(t *testing.T) {
	blocked := newCounter(t)
	release := make(chan struct{})
	defer close(release)
	var sb *server
	ns := newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0", "LST mallory@example.com Mallory 12 0")
		p.send("RNG 1 %s CKI 1.2 mallory@example.com Mallory", blocked.addr())
		p.send("RNG 2 %s CKI 3.4 bob@example.com Bob", sb.addr())
		<-release
	})
	sb = newServer(t, func(p *peer) {
		a := p.expect("ANS")
		p.send("IRO %d 1 1 bob@example.com Bob", a.TrID)
		p.send("ANS %d OK", a.TrID)
		<-release
	})
	_, sub := startClient(t, testConfig(ns.addr()))
	waitEvent(t, sub, EventJoined, func(e Event) bool { return e.Account == "bob@example.com" })
	time.Sleep(200 * time.Millisecond) // the RNGs are answered in the background
	if n := blocked.total.Load(); n != 0 {
		t.Errorf("the switchboard of a blocked contact's RNG got %d connections, want 0", n)
	}
}

// TestRingStorm: 1,000 RNGs to a switchboard that never answers are
// answered a few at a time, and the client's goroutines and queue go back
// to what they were once the storm is over.
func TestRingStorm(t *testing.T) {
	dead := newCounter(t)
	release := make(chan struct{})
	defer close(release)
	const storm = 1000
	start := make(chan struct{})
	ns := newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0")
		<-start
		for i := range storm {
			p.send("RNG %d %s CKI %d.1 bob@example.com Bob", i+1, dead.addr(), i)
		}
		<-release
	})
	cfg := testConfig(ns.addr())
	cfg.CallTimeout = 300 * time.Millisecond
	var open, most atomic.Int64
	d := &net.Dialer{}
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != dead.addr() {
			return d.DialContext(ctx, network, addr)
		}
		n := open.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			open.Add(-1)
			return nil, err
		}
		return &countedConn{Conn: c, open: &open}, nil
	}
	cl, sub := startClient(t, cfg)
	waitEvent(t, sub, EventSignedIn, nil)
	time.Sleep(100 * time.Millisecond)
	before := runtime.NumGoroutine()
	close(start)
	deadline := time.Now().Add(60 * time.Second)
	for {
		cl.ringMu.Lock()
		idle := cl.ringWorkers == 0 && len(cl.rings) == 0
		cl.ringMu.Unlock()
		if idle && dead.total.Load() > 0 && dead.now.Load() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("RNG storm not over after 60s: %d connections made, %d open", dead.total.Load(), dead.now.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if most := most.Load(); most > maxRingDials {
		t.Errorf("%d RNGs: %d switchboard connections open at once, want at most %d", storm, most, maxRingDials)
	}
	if n := dead.total.Load(); n > 4*(maxRingDials+maxRingQueued) {
		t.Errorf("%d RNGs: %d answered, want the excess dropped (queue of %d)", storm, n, maxRingQueued)
	}
	time.Sleep(100 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines: %d before the storm, %d after it, want them given back", before, after)
	}
	cl.ringMu.Lock()
	queued := cap(cl.rings)
	cl.ringMu.Unlock()
	if queued != 0 {
		t.Errorf("RNG queue keeps capacity %d after the storm, want it released", queued)
	}
}

// TestServerHostNamesNotLookedUp: a switchboard (XFR SB, RNG) or
// notification server (XFR NS) given by host name is refused with a
// clear error, without a DNS lookup or a connection.
func TestServerHostNamesNotLookedUp(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ns := newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0")
		p.send("RNG 9 sb.invalid:1863 CKI 1.2 bob@example.com Bob")
		x := p.expect("XFR")
		p.send("XFR %d SB localhost:1863 CKI 1.2.3", x.TrID)
		<-release
	})
	var mu sync.Mutex
	var dialed []string
	cfg := testConfig(ns.addr())
	d := &net.Dialer{}
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		return d.DialContext(ctx, network, addr)
	}
	cl, sub := startClient(t, cfg)
	e := waitEvent(t, sub, EventError, func(e Event) bool { return e.Account == "bob@example.com" })
	if !strings.Contains(e.Error, `"sb.invalid:1863", which is not an IP address`) {
		t.Errorf("RNG to a host name: error event %q, want it to say the address is not an IP address", e.Error)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := cl.Send(ctx, "bob@example.com", "hi")
	if err == nil || !strings.Contains(err.Error(), `"localhost:1863", which is not an IP address`) {
		t.Errorf("Send through XFR SB localhost = %v, want an error saying it is not an IP address", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range dialed {
		if a != ns.addr() {
			t.Errorf("dialed %q, want only the configured server %s", a, ns.addr())
		}
	}
}

// TestNSRedirectToHostName: XFR NS to a host name stops the sign-in with
// a clear error instead of a DNS lookup.
func TestNSRedirectToHostName(t *testing.T) {
	dispatch := newServer(t, func(p *peer) {
		v := p.expect("VER")
		p.send("VER %d MSNP8 CVR0", v.TrID)
		c := p.expect("CVR")
		p.send("CVR %d 5.0.0540 5.0.0540 1.0.0863 x y", c.TrID)
		u := p.expect("USR")
		p.send("XFR %d NS ns.invalid:1863 0 127.0.0.1:1863", u.TrID)
	})
	cl, err := New(testConfig(dispatch.addr()))
	if err != nil {
		t.Fatal(err)
	}
	cl.cfg.setDefaults()
	_, err = cl.signIn(t.Context())
	if err == nil || !strings.Contains(err.Error(), `"ns.invalid:1863", which is not an IP address`) {
		t.Errorf("signIn with XFR NS to a host name = %v, want an error saying it is not an IP address", err)
	}
}

// TestOwnJOIIgnored: a service that announces our own account with JOI
// in an answered conversation does not make it a group conversation:
// typing and send use it as the one-to-one conversation with the caller.
func TestOwnJOIIgnored(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var sb *server
	ns := newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0")
		p.send("RNG 7 %s CKI 5.6 bob@example.com Bob", sb.addr())
		<-release
	})
	gotTyping, gotText := make(chan string, 1), make(chan string, 1)
	sb = newServer(t, func(p *peer) {
		a := p.expect("ANS")
		p.send("IRO %d 1 1 bob@example.com Bob", a.TrID)
		p.send("ANS %d OK", a.TrID)
		p.send("JOI alice@example.com Alice")
		m := p.expect("MSG")
		gotTyping <- m.Arg(0)
		m = p.expect("MSG")
		p.send("ACK %d", m.TrID)
		gotText <- m.Arg(0)
		<-release
	})
	cl, sub := startClient(t, testConfig(ns.addr()))
	waitEvent(t, sub, EventJoined, func(e Event) bool { return e.Account == "bob@example.com" })
	time.Sleep(200 * time.Millisecond) // let the JOI arrive
	if cs := cl.Conversations(); len(cs) != 1 || strings.Join(cs[0].Members, ",") != "bob@example.com" {
		t.Fatalf("Conversations() = %v, want one with bob only", cs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.Typing(ctx, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-gotTyping:
	case <-ctx.Done():
		t.Fatal("Typing(bob) sent nothing in the answered conversation")
	}
	if err := cl.Send(ctx, "bob@example.com", "hi"); err != nil {
		t.Fatalf("Send(bob) = %v", err)
	}
	<-gotText
	_, hist, _ := cl.Subscribe(1)
	for _, e := range hist {
		if e.Type == EventJoined && e.Account == "alice@example.com" {
			t.Errorf("joined event for our own account: %+v", e)
		}
	}
}

// TestSendErrorTexts: a failed send says once what happened and what to
// do: no "invite", no clause twice, the server code in words.
func TestSendErrorTexts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var sb *server
	ns := newServer(t, func(p *peer) {
		signIn(p, "LST bob@example.com Bob 11 0", "LST carol@example.com Carol 11 0", "LST dan@example.com Dan 11 0")
		for range 3 {
			x := p.expect("XFR")
			p.send("XFR %d SB %s CKI 1.2.3", x.TrID, sb.addr())
		}
		<-release
	})
	answer := func(code string) func(p *peer) {
		return func(p *peer) {
			u := p.expect("USR")
			p.send("USR %d OK alice@example.com Alice", u.TrID)
			c := p.expect("CAL")
			if code != "" {
				p.send("%s %d", code, c.TrID)
			}
			<-release
		}
	}
	sb = newServer(t, answer("217"), answer("205"), answer(""))
	cfg := testConfig(ns.addr())
	cfg.CallTimeout = 2 * time.Second
	cl, sub := startClient(t, cfg)
	waitEvent(t, sub, EventSignedIn, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct{ to, want, once string }{
		{"bob@example.com", "bob@example.com is offline or appears offline; send again when they are online (server error 217)", "217"},
		{"carol@example.com", "carol@example.com cannot be reached: the account does not exist or does not take conversations from you", "205"},
		{"dan@example.com", "cannot start a conversation with dan@example.com: switchboard CAL: no answer within 2s", "no answer within"},
	}
	for _, tt := range tests {
		err := cl.Send(ctx, tt.to, "hi")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Send(%s) = %v, want an error containing %q", tt.to, err, tt.want)
			continue
		}
		if n := strings.Count(err.Error(), tt.once); n != 1 {
			t.Errorf("Send(%s) error %q says %q %d times, want once", tt.to, err, tt.once, n)
		}
		if strings.Contains(err.Error(), "invite") || strings.Count(err.Error(), "client:") > 1 {
			t.Errorf("Send(%s) error %q mentions invite or repeats its prefix", tt.to, err)
		}
	}
	if err := cl.SendTo(ctx, "c9", "hi"); err == nil || !strings.Contains(err.Error(), "list them with: msmsgs ctl conversations") {
		t.Errorf("SendTo(c9) = %v, want the no-conversation hint", err)
	}
}

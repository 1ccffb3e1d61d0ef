package sipaccount

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/messengerd/sip"
	"github.com/oemkit/messenger/msmsgs/client"
)

// events collects what an account publishes.
type events struct {
	mu sync.Mutex
	es []client.Event
	ch chan client.Event
}

func (e *events) publish(ev client.Event) client.Event {
	e.mu.Lock()
	e.es = append(e.es, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
	return ev
}

func (e *events) wait(t *testing.T, match func(client.Event) bool, what string) client.Event {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-e.ch:
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event for %s; got %+v", what, e.es)
		}
	}
}

// TestClockSkewNamesTheTimeService: a SIP server whose clock is 10
// minutes ahead of the device's: the sign-in fails before any Kerberos
// exchange, with the measured skew and the time service's state (read
// from its status file), and recovers by itself once the clocks agree.
func TestClockSkewNamesTheTimeService(t *testing.T) {
	r := kdctest.Start(t)
	r.AddUser(t, "alice", "alice-pass")
	kt := r.AddService(t, "sip/lab.test", "")
	var mu sync.Mutex
	shift := 10 * time.Minute
	srv, err := sip.New(sip.Config{Domain: "lab.test", Service: "sip/lab.test", Keytab: kt,
		Now:  func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(shift) },
		Logf: func(f string, a ...any) { t.Logf("server: "+f, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	dir := t.TempDir()
	status := filepath.Join(dir, "status.json")
	if err := os.WriteFile(status, []byte(`{"server":"10.0.2.2:123","synced":false,"polls":3,"failures":3,"error":"no answer from 10.0.2.2:123"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ev := &events{ch: make(chan client.Event, 64)}
	a, err := New(Config{UA: sipua.Config{URI: "sip:alice@lab.test", Server: ln.Addr().String(), Timeout: 5 * time.Second,
		Kerberos: kerberos.Config{Realm: r.Name, KDCs: []string{r.KDC}, Password: "alice-pass"}},
		Krb5Conf: filepath.Join(dir, "krb5.conf"), Publish: ev.publish, TimeStatus: status,
		BackoffMin: 200 * time.Millisecond, BackoffMax: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()

	e := ev.wait(t, func(e client.Event) bool { return e.Type == client.EventError }, "the skew error")
	// The server's Date header has whole seconds.
	if !strings.Contains(e.Error, "SIP server clock is 10m0s ahead of this one") && !strings.Contains(e.Error, "SIP server clock is 9m59s ahead of this one") {
		t.Errorf("error event %q\nwant the measured skew, 10 minutes", e.Error)
	}
	for _, want := range []string{"time service: not synced after 3 polls of 10.0.2.2:123", "no answer from 10.0.2.2:123", "check timesvc.server"} {
		if !strings.Contains(e.Error, want) {
			t.Errorf("error event %q\nwant it to say %q", e.Error, want)
		}
	}
	if e.Reason != ReasonClockSkew {
		t.Errorf("reason %q, want %s", e.Reason, ReasonClockSkew)
	}
	in := a.Info()
	var se *kerberos.SkewError
	if in.State == StateSignedIn || in.Reason != ReasonClockSkew {
		t.Errorf("Info = %+v, want offline with reason clock-skew", in)
	}
	if err := a.WaitSignedIn(timeoutCtx(t, 50*time.Millisecond)); !errors.As(err, &se) || !strings.HasPrefix(se.Advice, "time service: not synced") || strings.Count(err.Error(), "SYSGEN_TIMESVC") > 0 {
		t.Errorf("WaitSignedIn = %v, want the skew error with the time service's state", err)
	}

	// The time service sets the clock; the next attempt signs in.
	if err := os.WriteFile(status, []byte(`{"server":"10.0.2.2:123","synced":true,"offset":"2ms","steps":1,"last_sync":"`+time.Now().UTC().Format(time.RFC3339)+`"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if s := TimeState(status, time.Now()); !strings.Contains(s, "synced from 10.0.2.2:123") {
		t.Errorf("TimeState(synced) = %q", s)
	}
	mu.Lock()
	shift = 0
	mu.Unlock()
	ev.wait(t, func(e client.Event) bool { return e.Type == client.EventSignedIn && e.Account == "sip:alice@lab.test" }, "the sign-in after the clock was set")
	if err := a.WaitSignedIn(timeoutCtx(t, time.Second)); err != nil {
		t.Errorf("WaitSignedIn after the clock was set = %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "krb5.conf")); err != nil || !strings.Contains(string(b), "default_realm = LAB.TEST") {
		t.Errorf("krb5.conf = %q, %v", b, err)
	}
	if s := TimeState(filepath.Join(dir, "none.json"), time.Now()); !strings.Contains(s, "SYSGEN_TIMESVC is not in the design") || strings.Count(s, "SYSGEN_TIMESVC") != 1 {
		t.Errorf("TimeState(no file) = %q, want it to name SYSGEN_TIMESVC", s)
	}
}

func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestRoutes(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		alone bool
		want  bool
	}{
		{[]string{"send", "sip:bob@lab.test", "hi"}, false, true},
		{[]string{"send", "bob@example.com", "hi"}, false, false},
		{[]string{"send", "bob@example.com", "hi"}, true, true},
		{[]string{"status"}, false, false},
		{[]string{"status", "sip:"}, false, true},
		{[]string{"status", "set", "away", "sip:"}, false, true},
		{[]string{"wait", "presence", "account=sip:bob@lab.test"}, false, false},
		{[]string{"events"}, true, false},
		{nil, true, false},
	} {
		if got := Routes(tt.args, tt.alone); got != tt.want {
			t.Errorf("Routes(%q, alone %v) = %v, want %v", tt.args, tt.alone, got, tt.want)
		}
	}
}

func TestCheckURI(t *testing.T) {
	for _, ok := range []string{"sip:bob@lab.test", "sip:a.b-c@10.0.2.2"} {
		if err := checkURI(ok); err != nil {
			t.Errorf("checkURI(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "sip:", "sip:@x", "sip:bob", "bob@lab.test", "sip:bob@", "sip:bo b@x", "sip:bob@x;lr", "sip:<bob>@x", "sip:bob@x\r\nVia: evil", "sip:" + strings.Repeat("a", 300) + "@x"} {
		if err := checkURI(bad); err == nil {
			t.Errorf("checkURI(%q) = nil, want an error", bad)
		}
	}
}

func FuzzCheckURI(f *testing.F) {
	for _, s := range []string{"sip:bob@lab.test", "sip:@x", "sip:bob@x\r\nVia: y", "sip:a@b@c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkURI(s) != nil {
			return
		}
		if strings.ContainsAny(s, " \r\n\t<>\";") || !strings.HasPrefix(s, "sip:") || len(s) > MaxURI || strings.Count(s, "@") != 1 {
			t.Fatalf("checkURI(%q) accepted a URI that would break a SIP header", s)
		}
	})
}

// TestTicketsRenewed: with Kerberos tickets that live 20 s, the account
// stays signed in and keeps exchanging signed messages well past the
// first ticket's end: the registration is renewed, with a new TGT and
// service ticket, before the ticket behind it expires.
func TestTicketsRenewed(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 35 s for tickets to expire")
	}
	r := kdctest.Start(t)
	r.AddUser(t, "alice", "alice-pass", "-maxlife", `"20 seconds"`)
	r.AddUser(t, "bob", "bob-pass")
	kt := r.AddService(t, "sip/lab.test", "")
	srv, err := sip.New(sip.Config{Domain: "lab.test", Service: "sip/lab.test", Keytab: kt, Logf: func(f string, a ...any) { t.Logf("server: "+f, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	ev := &events{ch: make(chan client.Event, 256)}
	a, err := New(Config{UA: sipua.Config{URI: "sip:alice@lab.test", Server: ln.Addr().String(), Timeout: 5 * time.Second, Expires: 60 * time.Second,
		Kerberos: kerberos.Config{Realm: r.Name, KDCs: []string{r.KDC}, Password: "alice-pass"}}, Publish: ev.publish})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := a.WaitSignedIn(timeoutCtx(t, 20*time.Second)); err != nil {
		t.Fatal(err)
	}
	bob, err := sipua.Dial(context.Background(), sipua.Config{URI: "sip:bob@lab.test", Server: ln.Addr().String(), Timeout: 5 * time.Second,
		Kerberos: kerberos.Config{Realm: r.Name, KDCs: []string{r.KDC}, Password: "bob-pass"}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	start := time.Now()
	for i := 0; time.Since(start) < 35*time.Second; i++ {
		time.Sleep(5 * time.Second)
		text := fmt.Sprintf("still there after %v?", time.Since(start).Round(time.Second))
		if err := bob.SendMessage(context.Background(), "sip:alice@lab.test", text); err != nil {
			t.Fatalf("bob -> alice %v after sign-in: %v", time.Since(start).Round(time.Second), err)
		}
		ev.wait(t, func(e client.Event) bool { return e.Type == client.EventMessage && e.Text == text }, text)
		if err := a.Send(context.Background(), "sip:bob@lab.test", "yes"); err != nil {
			t.Fatalf("alice -> bob %v after sign-in (her first ticket lived 20 s): %v", time.Since(start).Round(time.Second), err)
		}
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, e := range ev.es {
		if e.Type == client.EventError || e.Type == client.EventDisconnected {
			t.Errorf("event %+v while the tickets were renewed", e)
		}
	}
}

package server

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// TestParkedSessionsHoldNoGoroutine: idle signed-in sessions are parked (on
// Linux): they hold no goroutine, still get presence pushed to them, and
// answer commands when the client speaks again.
func TestParkedSessionsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("parking uses epoll (Linux)")
	}
	const n = 20
	lb := startLab(t, t.TempDir(), nil)
	for i := range n {
		lb.addUser(fmt.Sprintf("u%02d@lab.test", i), pw, "")
	}
	before := runtime.NumGoroutine()
	cs := make([]*labclient.Conn, n)
	for i := range n {
		cs[i] = lb.signIn(fmt.Sprintf("u%02d@lab.test", i), pw, msnp.StatusOnline)
	}
	// Let the sessions go idle and park.
	var grown int
	for range 50 {
		time.Sleep(20 * time.Millisecond)
		if grown = runtime.NumGoroutine() - before; grown < n/2 {
			break
		}
	}
	if grown >= n/2 {
		t.Errorf("%d idle sessions added %d goroutines, want fewer than %d (parked)", n, grown, n/2)
	}
	// A parked session wakes for a command.
	for _, c := range cs {
		must(t)(c.Call("SYN", "0"))
	}
	// Presence pushed to a parked session still arrives.
	friends(t, cs[0], cs[1], "u00@lab.test", "u01@lab.test")
	time.Sleep(50 * time.Millisecond)
	must(t)(cs[1].Call("CHG", "BSY", "0"))
	cs[0].Timeout = 5 * time.Second
	for st := expectPresence(t, cs[0], "u01@lab.test"); st != msnp.StatusBusy; st = expectPresence(t, cs[0], "u01@lab.test") {
		// NLN from becoming friends comes first
	}
}

// TestParkedIdleTimeout: a parked session that stays silent past the idle
// timeout is closed by housekeeping (no per-connection timer), and signs
// out: its watcher sees FLN.
func TestParkedIdleTimeout(t *testing.T) {
	lb := startLab(t, t.TempDir(), func(c *Config) { c.IdleTimeout = 400 * time.Millisecond })
	lb.addUser("alice@lab.test", pw, "")
	lb.addUser("bob@lab.test", pw, "")
	a := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	b := lb.signIn("bob@lab.test", pw, msnp.StatusOnline)
	friends(t, a, b, "alice@lab.test", "bob@lab.test")
	a.Timeout = 5 * time.Second
	start := time.Now()
	expectClosed(t, a)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("idle session closed after %v, want about the 400ms idle timeout", d)
	}
	if lb.srv.Stats().Users != 0 {
		// Bob was as idle as Alice: both go.
		time.Sleep(200 * time.Millisecond)
		if u := lb.srv.Stats().Users; u != 0 {
			t.Errorf("%d users still signed in after the idle timeout", u)
		}
	}
}

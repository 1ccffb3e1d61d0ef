package server

import (
	"context"
	"fmt"
	"runtime"
	"strings"
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

// parkedCount is how many connections the poller holds parked.
func (s *Server) parkedCount() int {
	if s.poll == nil {
		return 0
	}
	s.poll.mu.Lock()
	defer s.poll.mu.Unlock()
	return len(s.poll.parked)
}

// TestParkedSwitchboard: a conversation idle for a housekeeping tick is
// parked (both switchboard connections leave their goroutines), messages
// in either direction wake it and arrive in full, and a parked
// switchboard connection past the idle timeout is closed, its peer told BYE.
func TestParkedSwitchboard(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("parking uses epoll (Linux)")
	}
	lb := startLab(t, t.TempDir(), func(c *Config) {
		c.SBCookieTTL = 400 * time.Millisecond // housekeeping tick 100ms
		c.IdleTimeout = 3 * time.Second
	})
	lb.addUser("alice@lab.test", pw, "Alice")
	lb.addUser("bob@lab.test", pw, "Bob")
	alice := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	bob := lb.signIn("bob@lab.test", pw, msnp.StatusOnline)
	ctx := context.Background()
	xfr := must(t)(alice.Call("XFR", "SB"))
	sa, err := labclient.Dial(ctx, xfr.Arg(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	must(t)(sa.Call("USR", "alice@lab.test", xfr.Arg(3)))
	must(t)(sa.Call("CAL", "bob@lab.test"))
	rng := must(t)(bob.Expect("RNG", msnp.NoTrID))
	sb, err := labclient.Dial(ctx, rng.Arg(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	aid, _ := sb.Send("ANS", "bob@lab.test", rng.Arg(3), rng.Arg(0))
	must(t)(sb.Expect("ANS", aid))
	must(t)(sa.Expect("JOI", msnp.NoTrID))

	waitParked := func(want int) {
		t.Helper()
		for range 100 {
			if lb.srv.parkedCount() >= want {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%d connections parked, want %d (2 notification + 2 switchboard)", lb.srv.parkedCount(), want)
	}
	for round := range 3 {
		waitParked(4)
		// A message larger than the reader's first buffer, both ways.
		body := strings.Repeat(fmt.Sprintf("round %d ", round), 100)
		text, _ := msnp.NewTextMessage(body).Bytes()
		id, _ := sa.SendMsg(msnp.AckFull, text)
		got := must(t)(sb.Expect("MSG", msnp.NoTrID))
		if m, err := msnp.ParseMessage(got.Payload); err != nil || string(m.Body) != body {
			t.Fatalf("round %d: bob got %q (%v)", round, got.Payload, err)
		}
		must(t)(sa.Expect("ACK", id))
		waitParked(4)
		id, _ = sb.SendMsg(msnp.AckFull, text)
		if got := must(t)(sa.Expect("MSG", msnp.NoTrID)); got.Arg(0) != "bob@lab.test" {
			t.Fatalf("alice got %v", got)
		}
		must(t)(sb.Expect("ACK", id))
	}
	// Bob keeps talking (his connection stays active), Alice stays silent
	// past the idle timeout: hers is closed while parked, Bob hears BYE.
	start := time.Now()
	for time.Since(start) < 6*time.Second {
		if lb.srv.Stats().Switchboards == 0 {
			t.Fatal("switchboard gone while bob is still in it")
		}
		text, _ := msnp.NewTextMessage("ping").Bytes()
		sb.SendMsg(msnp.AckNone, text)
		cmd, err := sb.Read()
		if err == nil && cmd.Name == "BYE" {
			if cmd.Arg(0) != "alice@lab.test" {
				t.Fatalf("BYE %v, want alice", cmd)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("alice's idle switchboard connection was not closed")
}

package server

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// xfrCode sends XFR SB and returns the cookie and the error code (0: OK).
func xfrCode(t *testing.T, c *labclient.Conn) (msnp.Command, msnp.Code) {
	t.Helper()
	cmd, err := c.Call("XFR", "SB")
	var se *msnp.ServerError
	switch {
	case err == nil:
		return cmd, 0
	case errors.As(err, &se):
		return cmd, se.Code
	}
	t.Fatalf("XFR SB: %v", err)
	return cmd, 0
}

// TestSwitchboardCookieLimits: one account looping XFR SB (and CAL) cannot
// fill the server-wide cookie pool; everyone else still gets switchboards,
// and the account itself gets more as it uses or lets expire its cookies.
func TestSwitchboardCookieLimits(t *testing.T) {
	const ttl = 500 * time.Millisecond
	// MaxConns 40: a pool of 160 cookies, which one account filled before.
	lb := startLab(t, t.TempDir(), func(c *Config) { c.MaxConns = 40; c.SBCookieTTL = ttl })
	for _, u := range []string{"mallory", "alice", "bob"} {
		lb.addUser(u+"@lab.test", pw, u)
	}
	mallory := lb.signIn("mallory@lab.test", pw, msnp.StatusOnline)
	alice := lb.signIn("alice@lab.test", pw, msnp.StatusOnline)
	bob := lb.signIn("bob@lab.test", pw, msnp.StatusOnline)

	var ok, refused int
	var last msnp.Command
	for range 200 {
		cmd, code := xfrCode(t, mallory)
		switch code {
		case 0:
			ok++
			last = cmd
		case msnp.CodeTooManySessions:
			refused++
		default:
			t.Fatalf("XFR SB in a loop: error %d, want OK or %d", code, msnp.CodeTooManySessions)
		}
	}
	if ok != 16 || refused != 184 {
		t.Errorf("200 x XFR SB from one account: %d OK, %d refused; want 16 OK (MaxSBMembers per connection), 184 refused with 714", ok, refused)
	}
	if _, code := xfrCode(t, alice); code != 0 {
		t.Fatalf("alice's XFR SB after mallory's loop = error %d, want a switchboard", code)
	}

	// Using a cookie makes room for one more.
	ctx := context.Background()
	sm, err := labclient.Dial(ctx, last.Arg(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	must(t)(sm.Call("USR", "mallory@lab.test", last.Arg(3)))
	if _, code := xfrCode(t, mallory); code != 0 {
		t.Errorf("XFR SB after using a cookie = error %d, want OK", code)
	}
	if _, code := xfrCode(t, mallory); code != msnp.CodeTooManySessions {
		t.Errorf("XFR SB at the limit again = error %d, want 714", code)
	}

	// CAL in a loop from one switchboard connection: bounded the same way,
	// with 713, and bob keeps getting the RNGs he can answer.
	var calOK, calRefused int
	for range 40 {
		_, err := sm.Call("CAL", "bob@lab.test")
		var se *msnp.ServerError
		switch {
		case err == nil:
			calOK++
		case errors.As(err, &se) && se.Code == msnp.CodeCallingTooRapidly:
			calRefused++
		default:
			t.Fatalf("CAL in a loop: %v", err)
		}
	}
	// The account holds 16 unused XFR cookies; of its 32, 16 are left for
	// CAL, which is also what one connection may hold.
	if calOK != 16 || calRefused != 24 {
		t.Errorf("40 x CAL from one account: %d RINGING, %d refused; want 16 and 24 refused with 713", calOK, calRefused)
	}
	rng := must(t)(bob.Expect("RNG", msnp.NoTrID))
	sb, err := labclient.Dial(ctx, rng.Arg(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	aid, _ := sb.Send("ANS", "bob@lab.test", rng.Arg(3), rng.Arg(0))
	must(t)(sb.Expect("ANS", aid))

	// Unused cookies expire quickly: the account can ask again.
	time.Sleep(ttl + 300*time.Millisecond)
	if _, code := xfrCode(t, mallory); code != 0 {
		t.Errorf("XFR SB after the cookies expired = error %d, want OK", code)
	}
}

// TestPendingPerAddress: one address holding idle connections that never
// sign in gets at most MaxPendingPerAddr of them; a client from another
// address still signs in, and signed-in sessions do not count.
func TestPendingPerAddress(t *testing.T) {
	const perAddr = 4
	lb := startLab(t, t.TempDir(), func(c *Config) { c.MaxConns = 10; c.MaxPendingPerAddr = perAddr })
	lb.addUser("alice@lab.test", pw, "Alice")
	lb.addUser("bob@lab.test", pw, "Bob")
	ctx := context.Background()
	attacker := &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}
	// Bob signs in from the attacker's address first: a signed-in session
	// does not count against the address.
	bob, err := labclient.SignInFrom(ctx, attacker, lb.hc, lb.addr, lb.nexus, "bob@lab.test", pw)
	if err != nil {
		t.Fatalf("bob's sign-in: %v", err)
	}
	defer bob.Close()

	var held, refused int
	for range 10 {
		c, err := labclient.DialFrom(ctx, attacker, lb.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The server answers a connection over the limit with 600 and
		// closes it; one it keeps answers VER.
		c.Send("VER", "MSNP8")
		cmd, err := c.Read()
		switch {
		case err == nil && cmd.Name == "VER":
			held++
		case err == nil && cmd.Name == "600":
			refused++
		default:
			t.Fatalf("idle connection %d: VER = %v, %v", held+refused, cmd, err)
		}
	}
	if held != perAddr || refused != 10-perAddr {
		t.Errorf("10 idle connections from one address: %d held, %d refused; want %d held, the rest refused with 600", held, refused, perAddr)
	}
	other := &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	alice, err := labclient.SignInFrom(sctx, other, lb.hc, lb.addr, lb.nexus, "alice@lab.test", pw)
	if err != nil {
		t.Fatalf("sign-in from another address while one address holds its maximum: %v", err)
	}
	alice.Close()
}

// TestSignInDeadline: a connection that does not sign in is closed after
// AuthTimeout, which is much shorter than the idle timeout by default.
func TestSignInDeadline(t *testing.T) {
	var cfg Config
	cfg.defaults()
	if cfg.AuthTimeout > 20*time.Second || cfg.AuthTimeout >= cfg.IdleTimeout/10 {
		t.Errorf("default AuthTimeout = %v, want at most 20 s", cfg.AuthTimeout)
	}
	lb := startLab(t, t.TempDir(), func(c *Config) { c.AuthTimeout = 300 * time.Millisecond })
	c, err := labclient.Dial(context.Background(), lb.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	must(t)(c.Call("VER", "MSNP8"))
	start := time.Now()
	expectClosed(t, c)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("connection without sign-in closed after %v, want about 300 ms", d)
	}
}

// TestSwitchboardCookieReserve: once the pool is half full, every account
// is held to 2 more cookies, so accounts that loop XFR SB cannot take the
// rest from the others.
func TestSwitchboardCookieReserve(t *testing.T) {
	// MaxConns 8: a pool of 32, half of it 16.
	lb := startLab(t, t.TempDir(), func(c *Config) { c.MaxConns = 8 })
	names := []string{"mallory", "trudy", "alice", "bob"}
	conns := map[string]*labclient.Conn{}
	for _, u := range names {
		lb.addUser(u+"@lab.test", pw, u)
		conns[u] = lb.signIn(u+"@lab.test", pw, msnp.StatusOnline)
	}
	got := map[string]int{}
	for _, u := range []string{"mallory", "trudy"} {
		for range 50 {
			if _, code := xfrCode(t, conns[u]); code == 0 {
				got[u]++
			}
		}
	}
	if got["mallory"] != 16 || got["trudy"] != 2 {
		t.Errorf("XFR SB loops: mallory got %d, trudy %d; want 16 (until half the pool), then 2", got["mallory"], got["trudy"])
	}
	for _, u := range []string{"alice", "bob"} {
		if _, code := xfrCode(t, conns[u]); code != 0 {
			t.Errorf("%s's XFR SB with the pool over half full = error %d, want a switchboard", u, code)
		}
	}
}

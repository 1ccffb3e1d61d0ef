package passport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/passport"
	"github.com/oemkit/messenger/messengerd/store"
)

// counted is the real store, counting the password checks it does.
type counted struct {
	*store.Store
	n atomic.Int64
}

func (c *counted) CheckPassword(ctx context.Context, email, pw string) (string, error) {
	c.n.Add(1)
	return c.Store.CheckPassword(ctx, email, pw)
}

// clock is a settable time for the throttle.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newClock() *clock               { return &clock{t: time.Unix(1_800_000_000, 0)} }
func hostAddr(i int) string          { return fmt.Sprintf("198.51.%d.%d:40000", i/250, i%250+1) }
func auth(account, password string) string {
	return "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=" +
		url.QueryEscape(account) + ",pwd=" + url.PathEscape(password) + ",lc=1033"
}

type loginLab struct {
	auth *counted
	mux  *http.ServeMux
	clk  *clock
}

func newLoginLab(t *testing.T) *loginLab {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, a := range []string{"alice@lab.test", "bob@lab.test"} {
		if err := st.AddUser(context.Background(), a, "right password", ""); err != nil {
			t.Fatal(err)
		}
	}
	tk, _ := passport.NewTickets(passport.NewKey(), time.Hour)
	lb := &loginLab{auth: &counted{Store: st}, mux: http.NewServeMux(), clk: newClock()}
	(&passport.Service{Auth: lb.auth, Tickets: tk, Throttle: &passport.Throttle{Now: lb.clk.now}}).Register(lb.mux)
	return lb
}

// login sends one login request from remote and returns the status and
// the Retry-After header.
func (lb *loginLab) login(account, password, remote string) (int, string) {
	req := httptest.NewRequest("GET", "https://login.lab.test"+passport.LoginPath, nil)
	req.RemoteAddr = remote
	req.Header.Set("Authorization", auth(account, password))
	w := httptest.NewRecorder()
	lb.mux.ServeHTTP(w, req)
	return w.Code, w.Header().Get("Retry-After")
}

// TestLoginThrottle: 1,000 wrong passwords for one account from one
// address get three password checks; the rest are refused with 429 and
// Retry-After. The owner's right password from another address still
// works at once.
func TestLoginThrottle(t *testing.T) {
	lb := newLoginLab(t)
	const attacker = "192.0.2.66:5000"
	var refused int
	for i := range 1000 {
		code, retry := lb.login("alice@lab.test", "guess"+strconv.Itoa(i), attacker)
		switch code {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
			if n, err := strconv.Atoi(retry); err != nil || n < 1 {
				t.Fatalf("429 with Retry-After %q, want seconds", retry)
			}
		default:
			t.Fatalf("wrong password %d: status %d", i, code)
		}
	}
	if got := lb.auth.n.Load(); got != 3 || refused != 997 {
		t.Errorf("1000 wrong passwords at once: %d checked, %d refused; want 3 checked (the free tries), 997 refused", got, refused)
	}
	// The owner, from elsewhere, at the same moment.
	if code, _ := lb.login("Alice@lab.test", "right password", "203.0.113.9:6000"); code != http.StatusOK {
		t.Errorf("right password from another address during the attack = %d, want 200", code)
	}
	// The attacker's own next slot comes after the delay, not before.
	lb.clk.add(500 * time.Millisecond)
	if code, _ := lb.login("alice@lab.test", "guess", attacker); code != http.StatusTooManyRequests {
		t.Errorf("guess 0.5 s later = %d, want 429", code)
	}
	lb.clk.add(600 * time.Millisecond)
	if code, _ := lb.login("alice@lab.test", "guess", attacker); code != http.StatusUnauthorized {
		t.Errorf("guess after the 1 s delay = %d, want 401 (checked)", code)
	}
	if code, retry := lb.login("alice@lab.test", "guess", attacker); code != http.StatusTooManyRequests || retry != "2" {
		t.Errorf("next guess = %d, Retry-After %q; want 429 with a doubled delay of 2 s", code, retry)
	}
}

// guessesPerHour runs an attacker that tries as fast as allowed (every
// 100 ms of simulated time) for one hour and returns the passwords checked.
func guessesPerHour(t *testing.T, lb *loginLab, try func(i int) (account, remote string)) int64 {
	before := lb.auth.n.Load()
	for i := range 36000 {
		account, remote := try(i)
		lb.login(account, "guess", remote)
		lb.clk.add(100 * time.Millisecond)
	}
	return lb.auth.n.Load() - before
}

// TestGuessRates measures what an attacker gets per hour, and that the
// owner is not locked out by any of it.
func TestGuessRates(t *testing.T) {
	for _, tc := range []struct {
		name string
		try  func(i int) (string, string)
		max  int64
	}{
		{"one account from one address", func(int) (string, string) { return "alice@lab.test", "192.0.2.66:1" }, 80},
		{"many accounts from one address", func(i int) (string, string) { return fmt.Sprintf("user%d@lab.test", i), "192.0.2.66:1" }, 80},
		{"one account from 10000 addresses", func(i int) (string, string) { return "alice@lab.test", hostAddr(i % 10000) }, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lb := newLoginLab(t)
			// The owner signed in from home before the attack.
			if code, _ := lb.login("alice@lab.test", "right password", "203.0.113.9:1"); code != 200 {
				t.Fatalf("owner's first sign-in = %d", code)
			}
			n := guessesPerHour(t, lb, tc.try)
			t.Logf("%s: %d passwords checked in one hour (36000 tries)", tc.name, n)
			if n > tc.max {
				t.Errorf("%s: %d guesses per hour, want at most %d", tc.name, n, tc.max)
			}
			if code, _ := lb.login("alice@lab.test", "right password", "203.0.113.9:2"); code != http.StatusOK {
				t.Errorf("owner from the address they used before, after the attack = %d, want 200", code)
			}
			if code, _ := lb.login("bob@lab.test", "right password", "203.0.113.77:1"); code != http.StatusOK {
				t.Errorf("another account from a new address after the attack = %d, want 200", code)
			}
		})
	}
}

// TestThrottleParallel: once a key is past its free failures, parallel
// requests share its one slot instead of all getting through.
func TestThrottleParallel(t *testing.T) {
	clk := newClock()
	th := &passport.Throttle{Now: clk.now}
	addr := passport.AddrKey("192.0.2.1:5")
	for range 3 {
		th.Failed("alice", addr)
	}
	clk.add(time.Second)
	if w := th.Check("alice", addr); w != 0 {
		t.Fatalf("first Check after the delay = %v, want 0", w)
	}
	if w := th.Check("alice", addr); w == 0 {
		t.Errorf("second Check in the same slot = 0, want a wait")
	}
	if a, b := passport.AddrKey("[2001:db8:1:2:3::4]:80"), passport.AddrKey("[2001:db8:1:2:ffff::1]:80"); a != b {
		t.Errorf("AddrKey of two addresses in one /64 = %q, %q; want the same", a, b)
	}
}

// TestThrottleFullTable: when a table holds MaxKeys live keys, new keys
// wait Max; once its keys are forgotten, new keys are counted again.
func TestThrottleFullTable(t *testing.T) {
	clk := newClock()
	th := &passport.Throttle{Now: clk.now, MaxKeys: 4}
	for i := range 4 {
		th.Failed(fmt.Sprintf("user%d@lab.test", i), passport.AddrKey(hostAddr(i)))
		clk.add(time.Minute)
	}
	newcomer := passport.AddrKey(hostAddr(9))
	if w := th.Check("new@lab.test", newcomer); w != time.Minute {
		t.Fatalf("Check of a new key with full tables = %v, want Max (1m)", w)
	}
	if w := th.Check("user0@lab.test", passport.AddrKey(hostAddr(0))); w != 0 {
		t.Errorf("Check of a key in a full table = %v, want 0 (it is under its free failures)", w)
	}
	// The first key is forgotten an hour after its failure; the others
	// are not yet.
	clk.add(time.Hour - 4*time.Minute + time.Second)
	if w := th.Check("new@lab.test", newcomer); w != 0 {
		t.Errorf("Check of a new key after the oldest key's Forget = %v, want 0", w)
	}
	th.Failed("new@lab.test", newcomer)
	if w := th.Check("new2@lab.test", passport.AddrKey(hostAddr(10))); w != time.Minute {
		t.Errorf("Check of another new key, tables full again = %v, want Max (1m)", w)
	}
}

// BenchmarkCheckFullTable is the cost of a sign-in from a new address
// while the tables are full of live keys (a distributed attack).
func BenchmarkCheckFullTable(b *testing.B) {
	clk := newClock()
	th := &passport.Throttle{Now: clk.now}
	for i := range 100000 {
		th.Failed(fmt.Sprintf("user%d@lab.test", i), fmt.Sprintf("2001:db8:%x:%x::1", i>>16, i&0xffff))
	}
	b.ResetTimer()
	for i := range b.N {
		if th.Check("new@lab.test", fmt.Sprintf("203.0.113.%d", i%250)) != time.Minute {
			b.Fatal("want Max")
		}
	}
}

package passport

import (
	"github.com/oemkit/messenger/internal/clientaddr"

	"sync"
	"time"
)

// Throttle slows down password guessing without letting an attacker lock
// the account's owner out.
//
// Wrong passwords are counted under three keys, each with its own number
// of free failures after which every further attempt has to wait a delay
// that doubles with each failure, from Base up to Max:
//
//   - the account from one address (PairFree, 3): someone guessing one
//     account's password from one place;
//   - the address, over all accounts (AddrFree, 10): one place trying
//     many accounts;
//   - the account, over all addresses (AccountFree, 30): many places
//     guessing one account. One address adds at most PairFree to it, so a
//     single attacker cannot raise it past its free allowance alone.
//
// An attempt that comes before its wait is over is refused without the
// password being checked (so it tells the guesser nothing and costs no
// key derivation), and it does not count as a failure.
//
// Lockout: the owner signing in from another address than the attacker's
// is not slowed by the attacker's failures (the pair and address keys are
// the attacker's own, and one address cannot push the account key past
// its free allowance). An address the account signed in from successfully
// within KnownFor is checked against the pair key only, so even a
// distributed attack (many addresses) does not slow the owner where they
// signed in before; only a new address during a distributed attack waits
// (at most Max). A success clears the pair key, not the others.
//
// A key is forgotten Forget after its last failure. IPv6 addresses are
// counted by /64.
type Throttle struct {
	PairFree    int           // 3
	AddrFree    int           // 10
	AccountFree int           // 30
	Base        time.Duration // first delay (1 s)
	Max         time.Duration // longest delay (60 s)
	Forget      time.Duration // a key without failures this long starts over (1 h)
	KnownFor    time.Duration // an address stays known for an account this long after a success (30 days)
	MaxKeys     int           // entries per table (100000); when full, new keys wait Max

	// Now returns the current time; time.Now when nil.
	Now func() time.Time

	once  sync.Once
	mu    sync.Mutex
	pair  table
	addr  table
	acct  table
	known map[string]time.Time
}

// table counts failures under one kind of key.
type table struct {
	m map[string]*strikes
	// sweep is, while the table is full, the earliest time any of its keys
	// can be forgotten (the oldest failure plus Forget): before it a new
	// key is refused without scanning the table again.
	sweep time.Time
}

type strikes struct {
	n    int
	last time.Time
}

func (t *Throttle) init() {
	t.once.Do(func() {
		def := func(p *int, v int) {
			if *p <= 0 {
				*p = v
			}
		}
		defd := func(p *time.Duration, v time.Duration) {
			if *p <= 0 {
				*p = v
			}
		}
		def(&t.PairFree, 3)
		def(&t.AddrFree, 10)
		def(&t.AccountFree, 30)
		def(&t.MaxKeys, 100000)
		defd(&t.Base, time.Second)
		defd(&t.Max, time.Minute)
		defd(&t.Forget, time.Hour)
		defd(&t.KnownFor, 30*24*time.Hour)
		t.pair.m = map[string]*strikes{}
		t.addr.m = map[string]*strikes{}
		t.acct.m = map[string]*strikes{}
		t.known = map[string]time.Time{}
	})
}

func (t *Throttle) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// wait is how long key k with free failures must still wait at now.
func (t *Throttle) wait(s *strikes, free int, now time.Time) time.Duration {
	if s == nil || s.n < free || now.Sub(s.last) > t.Forget {
		return 0
	}
	d := t.Base
	for i := free; i < s.n && d < t.Max; i++ {
		d *= 2
	}
	d = min(d, t.Max)
	return max(s.last.Add(d).Sub(now), 0)
}

// AddrKey is the address an HTTP request is counted under: the IP of
// remote (host:port), or the /64 of an IPv6 address.
func AddrKey(remote string) string { return clientaddr.Key(remote) }

func pairKey(account, addr string) string { return account + "\x00" + addr }

// Check reports how long a sign-in for account from addr (an AddrKey) has
// to wait; 0 means its password may be checked now. A key already past its
// free failures gives its next slot to this attempt, so that parallel
// requests do not all get through in the same slot.
func (t *Throttle) Check(account, addr string) time.Duration {
	t.init()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	pk := pairKey(account, addr)
	type key struct {
		s    *strikes
		free int
	}
	keys := []key{{t.pair.m[pk], t.PairFree}}
	if k, ok := t.known[pk]; !ok || now.Sub(k) > t.KnownFor {
		if t.full(&t.pair, pk, now) || t.full(&t.addr, addr, now) || t.full(&t.acct, account, now) {
			return t.Max
		}
		keys = append(keys, key{t.addr.m[addr], t.AddrFree}, key{t.acct.m[account], t.AccountFree})
	}
	var w time.Duration
	for _, k := range keys {
		w = max(w, t.wait(k.s, k.free, now))
	}
	if w > 0 {
		return w
	}
	for _, k := range keys {
		if k.s != nil && k.s.n >= k.free && now.Sub(k.s.last) <= t.Forget {
			k.s.last = now
		}
	}
	return 0
}

// full reports that table tb has no room for key k, after forgetting
// what it may. A full table is scanned at most once per time one of its
// keys can expire, not on every sign-in from a new address.
func (t *Throttle) full(tb *table, k string, now time.Time) bool {
	if _, ok := tb.m[k]; ok || len(tb.m) < t.MaxKeys {
		return false
	}
	if now.Before(tb.sweep) {
		return true
	}
	oldest := now
	for x, s := range tb.m {
		if now.Sub(s.last) > t.Forget {
			delete(tb.m, x)
		} else if s.last.Before(oldest) {
			oldest = s.last
		}
	}
	tb.sweep = oldest.Add(t.Forget)
	return len(tb.m) >= t.MaxKeys
}

func (t *Throttle) strike(tb *table, k string, now time.Time) *strikes {
	m := tb.m
	s := m[k]
	if s == nil || now.Sub(s.last) > t.Forget {
		if s == nil && len(m) >= t.MaxKeys {
			return nil
		}
		s = &strikes{}
		m[k] = s
	}
	s.n++
	s.last = now
	return s
}

// Failed records a wrong password for account from addr.
func (t *Throttle) Failed(account, addr string) {
	t.init()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	pk := pairKey(account, addr)
	p := t.strike(&t.pair, pk, now)
	if k, ok := t.known[pk]; ok && now.Sub(k) <= t.KnownFor {
		return
	}
	t.strike(&t.addr, addr, now)
	if p != nil && p.n <= t.PairFree {
		t.strike(&t.acct, account, now)
	}
}

// Succeeded records a right password for account from addr: the pair's
// failures are cleared and addr becomes known for the account.
func (t *Throttle) Succeeded(account, addr string) {
	t.init()
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	pk := pairKey(account, addr)
	delete(t.pair.m, pk)
	if _, ok := t.known[pk]; !ok && len(t.known) >= t.MaxKeys {
		for k, at := range t.known {
			if now.Sub(at) > t.KnownFor {
				delete(t.known, k)
			}
		}
		if len(t.known) >= t.MaxKeys {
			return
		}
	}
	t.known[pk] = now
}

package server

import (
	"runtime/debug"
	"sync/atomic"
	"time"
)

// A burst of sign-ins (TLS handshakes, password hashes, the sign-in call
// chain's stacks) leaves the heap much larger than what the signed-in
// sessions hold once it is over; the Go runtime gives that memory back to
// the system only slowly. The same goes for the goroutine stacks of
// switchboard sessions that park when a conversation falls silent. When at
// least releaseBurst such events (sign-ins, switchboard parks) were
// followed by releaseQuiet without one, housekeeping returns the free
// memory at once: a service holding 2,000 idle clients then holds their
// sessions, not the garbage of signing them in.
const (
	releaseBurst = 128
	releaseQuiet = time.Second
)

// releaser decides when to return free memory; its methods are called
// from sign-in (note) and housekeeping (tick) only.
type releaser struct {
	signIns atomic.Int64 // events (sign-ins, parks) since the process started

	seen       int64     // signIns at the last tick
	burst      int64     // sign-ins since the last release
	lastChange time.Time // when signIns last moved
	free       func()    // debug.FreeOSMemory; tests count calls
}

func (r *releaser) note() { r.signIns.Add(1) }

// noteN counts n events at once.
func (r *releaser) noteN(n int) { r.signIns.Add(int64(n)) }

// tick is called by housekeeping; true when it released memory.
func (r *releaser) tick(now time.Time) bool {
	n := r.signIns.Load()
	if n != r.seen {
		r.burst += n - r.seen
		r.seen = n
		r.lastChange = now
		return false
	}
	if r.burst < releaseBurst || now.Sub(r.lastChange) < releaseQuiet {
		return false
	}
	r.burst = 0
	free := r.free
	if free == nil {
		free = debug.FreeOSMemory
	}
	free()
	return true
}

package server

import (
	"testing"
	"time"
)

func TestReleaseAfterBurst(t *testing.T) {
	calls := 0
	r := releaser{free: func() { calls++ }}
	t0 := time.Unix(1000, 0)
	for i := 0; i < releaseBurst-1; i++ {
		r.note()
	}
	r.tick(t0)
	if r.tick(t0.Add(10*releaseQuiet)) || calls != 0 {
		t.Fatalf("released after %d sign-ins, want only after a burst of %d", releaseBurst-1, releaseBurst)
	}
	r.note()
	if r.tick(t0.Add(11 * releaseQuiet)) {
		t.Fatal("released on the tick that saw a sign-in")
	}
	if r.tick(t0.Add(11*releaseQuiet + releaseQuiet/2)) {
		t.Fatal("released before the quiet time passed")
	}
	if !r.tick(t0.Add(12*releaseQuiet)) || calls != 1 {
		t.Fatalf("not released after a burst and %v quiet (calls %d)", releaseQuiet, calls)
	}
	if r.tick(t0.Add(20*releaseQuiet)) || calls != 1 {
		t.Fatalf("released again with no new burst (calls %d)", calls)
	}
}

//go:build !sysgen_rtc

package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestNoVoice: without SYSGEN_RTC, ctl call says voice is not in the
// design (the client declines voice invitations as not installed).
func TestNoVoice(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const alice, bob = "alice@example.com", "bob@example.com"
	pw := map[string]string{alice: "alice-Pw1", bob: "bob-Pw2"}
	l := newLab(t, pw)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := daemon(t, ctx, l, alice, pw[alice])
	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s")
	for _, args := range [][]string{{"call", bob}, {"answer"}, {"calls"}, {"hangup", "v1"}} {
		_, err := ctl(ctx, a, args...)
		if err == nil || !strings.Contains(err.Error(), "not in this device's design") {
			t.Errorf("ctl %s: %v, want voice is not in this device's design", strings.Join(args, " "), err)
		}
	}
}

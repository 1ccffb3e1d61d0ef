package rtc

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
)

var (
	capacityCalls = flag.String("rtc.capacity", "", "TestCapacity: comma-separated numbers of simultaneous calls, e.g. 50,100")
	capacityTime  = flag.Duration("rtc.capacity-time", 10*time.Second, "TestCapacity: measuring window per step")
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lateness sums what went late on one call end: send ticks late by more than
// 10 ms, packets that arrived after their playout slot, and underruns.
func lateness(s media.Stats) (lateSends, latePkts, underruns uint64) {
	return s.LateSends, s.Buffer.Late, s.Buffer.Underruns
}

// TestCapacity is the load benchmark: N simultaneous loopback calls (both
// ends in this process, full SIP + RTP + G.711 + jitter buffer, a tone each
// way), reporting CPU per call and everything that ran late.
//
//	go test ./feature/rtc -run TestCapacity -rtc.capacity=50,100,150 -v
func TestCapacity(t *testing.T) {
	calls := *capacityCalls
	if calls == "" {
		if testing.Short() {
			t.Skip("load test; -short skips it")
		}
		// Without the flag: a small step that checks the harness and 8
		// simultaneous calls stay clean; the README's figures use 50-150.
		calls = "8"
	}
	for _, f := range strings.Split(calls, ",") {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			t.Fatalf("-rtc.capacity %q: want positive numbers", calls)
		}
		t.Run(fmt.Sprint(n), func(t *testing.T) { capacityStep(t, n) })
	}
}

func capacityStep(t *testing.T, n int) {
	answered := make(chan *Call, n)
	b := startPhone(t, Config{MaxCalls: n, MediaPorts: media.PortRange{Min: 20000, Max: 29999}, OnIncoming: func(in *Incoming) {
		c, err := in.Answer(CallOptions{Source: &audio.Tone{Freq: 1000}})
		if err != nil {
			t.Errorf("Answer: %v", err)
			return
		}
		answered <- c
	}})
	a := startPhone(t, Config{MaxCalls: n, MediaPorts: media.PortRange{Min: 30000, Max: 39999}})
	ctx := context.Background()
	var calls []*Call
	for range n {
		c, err := a.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{Source: &audio.Tone{Freq: 440}})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		calls = append(calls, c, <-answered)
	}
	time.Sleep(2 * time.Second) // settle: jitter buffers find their depth
	sum := func() (ls, lp, ur, pk uint64) {
		for _, c := range calls {
			st := c.Stats()
			a, b, c := lateness(st)
			ls, lp, ur, pk = ls+a, lp+b, ur+c, pk+st.PacketsReceived
		}
		return
	}
	ls0, lp0, ur0, pk0 := sum()
	cpu0, wall0 := cpuTime(), time.Now()
	time.Sleep(*capacityTime)
	cpu1, wall := cpuTime(), time.Since(wall0)
	ls1, lp1, ur1, pk1 := sum()
	cpu := float64(cpu1-cpu0) / float64(wall)
	t.Logf("BENCH %d calls (%d streams) for %s: CPU %.1f%% of one core = %.2f%% per call (both ends); packets received %d (want %d); late sends %d, late packets %d, underruns %d",
		n, 2*n, wall.Round(time.Millisecond), 100*cpu, 100*cpu/float64(n), pk1-pk0, int64(2*n)*int64(wall/media.FrameDuration), ls1-ls0, lp1-lp0, ur1-ur0)
	for _, c := range calls {
		if c.Outgoing() {
			c.Hangup(ctx)
		}
	}
}

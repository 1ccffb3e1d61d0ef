package timesvc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/timesvc/timesvctest"
)

func startChrony(t testing.TB) string { return timesvctest.StartChrony(t).Addr }

// offsetClock is the host's clock moved by an offset the service corrects.
// The service's SNTP exchanges with chronyd are real; only the clock it sets
// is this one, because a test must not set the host's clock. Slew applies
// the whole offset at once (the kernel would take up to 256 s for 128 ms).
type offsetClock struct {
	mu          sync.Mutex
	off         time.Duration
	steps       []time.Duration
	slews       []time.Duration
	failSetting error
}

func (c *offsetClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *offsetClock) Step(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSetting != nil {
		return c.failSetting
	}
	c.off += d
	c.steps = append(c.steps, d)
	return nil
}

func (c *offsetClock) Slew(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSetting != nil {
		return c.failSetting
	}
	c.off += d
	c.slews = append(c.slews, d)
	return nil
}

func (c *offsetClock) offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// loopbackTolerance is how far an SNTP offset on loopback may be from the
// truth: half the round trip at most, which on a loaded 2-core machine can
// reach milliseconds.
const loopbackTolerance = 20 * time.Millisecond

func TestQueryChrony(t *testing.T) {
	addr := startChrony(t)
	for i := 0; i < 5; i++ {
		s, err := Query(context.Background(), addr, nil, 0)
		if err != nil {
			t.Fatalf("Query(chronyd %s) = %v", addr, err)
		}
		if abs(s.Offset) > loopbackTolerance || s.Delay > 2*loopbackTolerance || s.Reply.Stratum != 10 {
			t.Errorf("Query(chronyd) = offset %v delay %v stratum %d, want |offset| < %v and stratum 10", s.Offset, s.Delay, s.Reply.Stratum, loopbackTolerance)
		}
		t.Logf("chronyd: offset %v delay %v", s.Offset, s.Delay)
	}
	// A clock 90 minutes ahead is measured as -90 minutes.
	ahead := func() time.Time { return time.Now().Add(90 * time.Minute) }
	s, err := Query(context.Background(), addr, ahead, 0)
	if err != nil {
		t.Fatal(err)
	}
	if abs(s.Offset+90*time.Minute) > loopbackTolerance {
		t.Errorf("Query(chronyd) with the clock 90 min ahead = offset %v, want -90m0s", s.Offset)
	}
}

// TestServiceSetsClock runs the service against chronyd with a clock that
// starts on 2020-01-01 (as the QEMU test's guest does): the first poll
// steps it and checks the step, the status file says so, a later drift is
// slewed, and the status reader sees it all.
func TestServiceSetsClock(t *testing.T) {
	addr := startChrony(t)
	skew := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Sub(time.Now())
	clock := &offsetClock{off: skew}
	statusPath := filepath.Join(t.TempDir(), "run", "status.json")
	var log syncBuffer
	svc, err := New(Config{Server: addr, Clock: clock, StatusPath: statusPath, Log: &log, MinPoll: time.Second, MaxPoll: 4 * time.Second, fast: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Poll(ctx); err != nil {
		t.Fatalf("first Poll = %v\n%s", err, log.String())
	}
	if got := clock.offset(); abs(got) > loopbackTolerance {
		t.Errorf("clock after the first poll is %v off, want within %v", got, loopbackTolerance)
	}
	st, err := ReadStatus(statusPath)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Synced || st.Action != "step" || st.Steps != 1 || !st.Verified || abs(time.Duration(st.VerifyOffsetNS)) > loopbackTolerance {
		t.Errorf("status after the first poll = %+v, want synced, one step, verified within %v", st, loopbackTolerance)
	}
	if abs(time.Duration(st.BootOffsetNS)+skew) > loopbackTolerance || st.BootOffsetNS != st.OffsetNS {
		t.Errorf("status boot offset = %v, want %v", time.Duration(st.BootOffsetNS), -skew)
	}
	if abs(time.Since(st.LastSync)) > time.Second {
		t.Errorf("status last sync = %v, want about now (%v)", st.LastSync, time.Now())
	}
	if !strings.Contains(log.String(), Marker+" {") {
		t.Errorf("service log lacks the %s line:\n%s", Marker, log.String())
	}
	t.Logf("first poll: %s", strings.TrimSpace(log.String()))

	// The clock drifts 40 ms: the next poll slews it back.
	clock.Step(-40 * time.Millisecond)
	if _, err := svc.Poll(ctx); err != nil {
		t.Fatalf("second Poll = %v", err)
	}
	st, err = ReadStatus(statusPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Action != "slew" || st.Slews < 1 || abs(time.Duration(st.OffsetNS)-40*time.Millisecond) > loopbackTolerance {
		t.Errorf("status after a 40 ms drift = %+v, want a slew of about 40ms", st)
	}
	if got := clock.offset(); abs(got) > loopbackTolerance {
		t.Errorf("clock after the slew is %v off", got)
	}
	if st.BootOffsetNS == st.OffsetNS {
		t.Errorf("boot offset changed with a later poll: %v", time.Duration(st.BootOffsetNS))
	}
}

// TestServiceRun runs the loop: it polls at the minimum interval, doubling,
// and stops with its context.
func TestServiceRun(t *testing.T) {
	addr := startChrony(t)
	clock := &offsetClock{off: time.Hour}
	svc, err := New(Config{Server: addr, Clock: clock, MinPoll: 300 * time.Millisecond, MaxPoll: 600 * time.Millisecond, fast: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := svc.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want the context's deadline", err)
	}
	st := svc.Status()
	if st.Steps != 1 || st.Slews < 1 || st.Polls < 2 || st.Failures != 0 || abs(clock.offset()) > loopbackTolerance {
		t.Errorf("after 4 s of Run: %+v, clock %v off; want one step, then slews", st, clock.offset())
	}
}

// udpPeer answers each request on 127.0.0.1 with what reply returns
// (nil: no answer).
func udpPeer(t *testing.T, reply func(req []byte, from net.Addr, pc net.PacketConn)) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			reply(append([]byte(nil), buf[:n]...), from, pc)
		}
	}()
	return pc.LocalAddr().String()
}

func nonceOf(req []byte) Timestamp { return Timestamp(binary.BigEndian.Uint64(req[40:])) }

// TestSpoofedRepliesIgnored puts a hostile relay in front of chronyd: for
// each request it first sends replies a blind spoofer could send (a wrong
// origin claiming the clock is an hour off, a kiss-o'-death DENY, a
// client-mode packet, a runt), then relays chronyd's real answer. The client
// must take only the real one.
func TestSpoofedRepliesIgnored(t *testing.T) {
	real := startChrony(t)
	up, err := net.Dial("udp", real)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	var mu sync.Mutex
	relay := udpPeer(t, func(req []byte, from net.Addr, pc net.PacketConn) {
		mu.Lock()
		defer mu.Unlock()
		n := nonceOf(req)
		hour := reply(n+1, func(b []byte) {
			ts := ToTimestamp(time.Now().Add(time.Hour))
			binary.BigEndian.PutUint64(b[32:], uint64(ts))
			binary.BigEndian.PutUint64(b[40:], uint64(ts))
		})
		pc.WriteTo(hour, from)
		pc.WriteTo(reply(n^0xffff, func(b []byte) { b[1] = 0; copy(b[12:], "DENY") }), from)
		pc.WriteTo(reply(n, func(b []byte) { b[0] = 4<<3 | modeClient }), from)
		pc.WriteTo([]byte("runt"), from)
		up.Write(req)
		up.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 2048)
		k, err := up.Read(buf)
		if err == nil {
			pc.WriteTo(buf[:k], from)
		}
	})
	s, err := Query(context.Background(), relay, nil, 3*time.Second)
	if err != nil {
		t.Fatalf("Query(through the hostile relay) = %v", err)
	}
	if abs(s.Offset) > loopbackTolerance || s.Reply.Stratum != 10 {
		t.Errorf("Query(through the hostile relay) = offset %v stratum %d, want chronyd's answer (about 0, stratum 10)", s.Offset, s.Reply.Stratum)
	}
}

func TestKissOfDeath(t *testing.T) {
	for _, tc := range []struct {
		code     string
		wantWait time.Duration
	}{
		{"RATE", 2 * time.Second},
		{"DENY", DenyBackoff},
		{"RSTR", DenyBackoff},
	} {
		t.Run(tc.code, func(t *testing.T) {
			addr := udpPeer(t, func(req []byte, from net.Addr, pc net.PacketConn) {
				pc.WriteTo(reply(nonceOf(req), func(b []byte) { b[1] = 0; copy(b[12:], tc.code) }), from)
			})
			clock := &offsetClock{}
			svc, err := New(Config{Server: addr, Clock: clock, MinPoll: time.Second, MaxPoll: 8 * time.Second, fast: true})
			if err != nil {
				t.Fatal(err)
			}
			wait, err := svc.Poll(context.Background())
			var k *KissError
			if !errors.As(err, &k) || k.Code != tc.code {
				t.Fatalf("Poll against a %s server = %v, want the kiss-o'-death", tc.code, err)
			}
			if wait != tc.wantWait {
				t.Errorf("Poll against a %s server: wait %v, want %v", tc.code, wait, tc.wantWait)
			}
			if st := svc.Status(); st.Synced || st.Failures != 1 || !strings.Contains(st.Error, tc.code) || len(clock.steps)+len(clock.slews) != 0 {
				t.Errorf("status after %s = %+v, clock steps %v slews %v; want not synced, the error, no correction", tc.code, st, clock.steps, clock.slews)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	silent := udpPeer(t, func([]byte, net.Addr, net.PacketConn) {})
	_, err := Query(context.Background(), silent, nil, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no reply in 300ms") {
		t.Errorf("Query(silent server) = %v, want no reply in 300ms", err)
	}
	bad := udpPeer(t, func(req []byte, from net.Addr, pc net.PacketConn) {
		pc.WriteTo(reply(nonceOf(req), func(b []byte) { b[0] = 4<<3 | 5 }), from)
	})
	_, err = Query(context.Background(), bad, nil, 300*time.Millisecond)
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("Query(broadcast-mode replies) = %v, want ErrMalformed after the timeout", err)
	}
	unsynced := udpPeer(t, func(req []byte, from net.Addr, pc net.PacketConn) {
		pc.WriteTo(reply(nonceOf(req), func(b []byte) { b[0] |= 3 << 6; b[1] = 16 }), from)
	})
	_, err = Query(context.Background(), unsynced, nil, time.Second)
	if !errors.Is(err, ErrUnsynchronized) {
		t.Errorf("Query(unsynchronised server) = %v, want ErrUnsynchronized", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start := time.Now()
	_, err = Query(ctx, silent, nil, 5*time.Second)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("Query(cancelled after 100ms) = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

// TestServiceClockError: a clock that cannot be set is reported, not synced.
func TestServiceClockError(t *testing.T) {
	addr := startChrony(t)
	clock := &offsetClock{off: time.Hour, failSetting: errors.New("clock_settime: operation not permitted")}
	svc, err := New(Config{Server: addr, Clock: clock, fast: true, MinPoll: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "not permitted") {
		t.Fatalf("Poll with an unsettable clock = %v, want the clock's error", err)
	}
	if st := svc.Status(); st.Synced || st.Steps != 0 {
		t.Errorf("status = %+v, want not synced", st)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

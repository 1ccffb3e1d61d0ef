package timesvc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// DefaultPort is the NTP port a server address without one gets.
const DefaultPort = "123"

// DefaultTimeout bounds one request: how long the client waits for the
// matching reply.
const DefaultTimeout = 2 * time.Second

// Clock is the local clock the client measures and the service corrects.
// SystemClock is the device's; tests can pass another.
type Clock interface {
	// Now returns the current local time (with a monotonic reading).
	Now() time.Time
	// Step sets the clock forward (or back) by d at once.
	Step(d time.Duration) error
	// Slew makes the clock gain (or lose) d gradually.
	Slew(d time.Duration) error
}

// ServerAddr adds the NTP port to a host that has none.
func ServerAddr(s string) string {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s
	}
	return net.JoinHostPort(s, DefaultPort)
}

// Query sends one request to server (host or host:port) and returns the
// sample from its reply, measured against now (nil means time.Now). Datagrams
// that do not answer the request (a wrong origin timestamp, not a server
// reply) are dropped and the client keeps waiting until timeout (0 means
// DefaultTimeout) or ctx ends.
func Query(ctx context.Context, server string, now func() time.Time, timeout time.Duration) (Sample, error) {
	if now == nil {
		now = time.Now
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	addr := ServerAddr(server)
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	// A connected socket: the kernel drops datagrams from any other
	// address or port.
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return Sample{}, fmt.Errorf("timesvc: %s: %w", addr, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	var nb [8]byte
	if _, err := rand.Read(nb[:]); err != nil {
		return Sample{}, fmt.Errorf("timesvc: nonce: %w", err)
	}
	nonce := Timestamp(binary.BigEndian.Uint64(nb[:]))
	req := NewRequest(nonce)
	t1, sent := now(), time.Now()
	if _, err := conn.Write(req); err != nil {
		return Sample{}, fmt.Errorf("timesvc: send to %s: %w", addr, err)
	}
	buf := make([]byte, MaxReply+1)
	var last error
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
				if pe := parent.Err(); pe != nil {
					return Sample{}, pe
				}
				if last != nil {
					return Sample{}, fmt.Errorf("timesvc: %s: no valid reply in %v (last datagram refused: %w)", addr, timeout, last)
				}
				return Sample{}, fmt.Errorf("timesvc: %s: no reply in %v; check that an NTP server runs there and UDP port %s is open", addr, timeout, portOf(addr))
			}
			return Sample{}, fmt.Errorf("timesvc: %s: %w", addr, err)
		}
		// T4 is T1 plus the monotonic time between them (measured on
		// the process's own monotonic clock, not on now's): a clock step
		// during the exchange does not corrupt it.
		t4 := t1.Add(time.Since(sent))
		r, err := ParseReply(buf[:n], nonce)
		if err != nil {
			var kod *KissError
			if errors.As(err, &kod) || errors.Is(err, ErrUnsynchronized) {
				return Sample{}, fmt.Errorf("timesvc: %s: %w", addr, err)
			}
			last = err
			continue
		}
		s, err := NewSample(r, t1, t4)
		if err != nil {
			return Sample{}, fmt.Errorf("timesvc: %s: %w", addr, err)
		}
		return s, nil
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func portOf(addr string) string {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return DefaultPort
	}
	return p
}

// Best sends n requests (one after the other, spaced by gap) and returns the
// sample with the smallest delay: the one least disturbed by queueing
// (RFC 5905's clock filter keeps the same one). It fails only if every
// request failed, with the last error.
func Best(ctx context.Context, server string, now func() time.Time, n int, gap, timeout time.Duration) (Sample, int, error) {
	var best Sample
	got := 0
	var last error
	for i := 0; i < n; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return best, got, ctx.Err()
			case <-time.After(gap):
			}
		}
		s, err := Query(ctx, server, now, timeout)
		if err != nil {
			last = err
			var kod *KissError
			if errors.As(err, &kod) {
				break
			}
			continue
		}
		if got == 0 || s.Delay < best.Delay {
			best = s
		}
		got++
	}
	if got == 0 {
		return best, 0, last
	}
	return best, got, nil
}

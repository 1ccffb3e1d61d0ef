package msnftp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Default MSNFTP port range: Windows Messenger listens on the first free
// port from 6891 on, and OEMs open 6891-6900 for ten transfers at once.
const (
	DefaultPortLow  = 6891
	DefaultPortHigh = 6900
)

// ErrNoFreePort: every port of the range stayed busy for the whole wait.
var ErrNoFreePort = errors.New("no free file transfer port")

// portRetry is how often a waiting Listen retries ports that another
// program (not this Ports) holds; releases by this Ports wake it at once.
const portRetry = time.Second

// Ports hands out listening ports from one range to all the transfers of
// one sender. A port stays taken from Listen until the listener's release
// function runs (at the end of the transfer). It is safe for concurrent use.
type Ports struct {
	low, high int
	bind      string // host to bind, "" for all addresses

	mu      sync.Mutex
	inUse   map[int]bool
	changed chan struct{} // closed and replaced whenever a port is released
}

// NewPorts returns an allocator for ports low..high (inclusive) bound on
// host ("" for all addresses, "127.0.0.1" for loopback only).
func NewPorts(host string, low, high int) (*Ports, error) {
	if low < 1 || high > 65535 || low > high {
		return nil, fmt.Errorf("msnftp: port range %d-%d: want 1 <= low <= high <= 65535 (default %d-%d)", low, high, DefaultPortLow, DefaultPortHigh)
	}
	return &Ports{low: low, high: high, bind: host, inUse: map[int]bool{}, changed: make(chan struct{})}, nil
}

// Range returns the port range as "low-high" (or "port" for one port).
func (p *Ports) Range() string {
	if p.low == p.high {
		return strconv.Itoa(p.low)
	}
	return fmt.Sprintf("%d-%d", p.low, p.high)
}

// Busy returns how many ports of the range this allocator holds.
func (p *Ports) Busy() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inUse)
}

// tryListen binds the first free port. It returns nil, 0, nil when none is free.
func (p *Ports) tryListen(ctx context.Context) (net.Listener, int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var lc net.ListenConfig
	for port := p.low; port <= p.high; port++ {
		if p.inUse[port] {
			continue
		}
		l, err := lc.Listen(ctx, "tcp", net.JoinHostPort(p.bind, strconv.Itoa(port)))
		if err != nil {
			if isAddrInUse(err) {
				continue
			}
			return nil, 0, fmt.Errorf("msnftp: listen on port %d: %w", port, err)
		}
		p.inUse[port] = true
		return l, port, nil
	}
	return nil, 0, nil
}

func (p *Ports) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inUse[port] {
		return
	}
	delete(p.inUse, port)
	close(p.changed)
	p.changed = make(chan struct{})
}

// listen binds the first free port of the range. When all are busy it calls
// waiting once and waits up to wait (negative: not at all) for a release.
func (p *Ports) listen(ctx context.Context, wait time.Duration, waiting func()) (net.Listener, int, error) {
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	notified := false
	for {
		p.mu.Lock()
		changed := p.changed
		p.mu.Unlock()
		l, port, err := p.tryListen(ctx)
		if err != nil || l != nil {
			return l, port, err
		}
		if wait < 0 {
			return nil, 0, p.noPort(0)
		}
		if !notified && waiting != nil {
			waiting()
		}
		notified = true
		retry := time.NewTimer(portRetry)
		select {
		case <-changed:
		case <-retry.C:
		case <-deadline:
			retry.Stop()
			return nil, 0, p.noPort(wait)
		case <-ctx.Done():
			retry.Stop()
			return nil, 0, fmt.Errorf("msnftp: waiting for a free port in %s: %w", p.Range(), ctx.Err())
		}
		retry.Stop()
	}
}

func (p *Ports) noPort(wait time.Duration) error {
	return fmt.Errorf("msnftp: %w: all ports %s busy (%d transfers of this sender in progress) for %v; wait for a transfer to finish or widen the port range and open it in the firewall",
		ErrNoFreePort, p.Range(), p.Busy(), wait)
}

func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

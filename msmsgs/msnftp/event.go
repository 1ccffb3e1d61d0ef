package msnftp

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// EventKind says what an Event reports.
type EventKind string

// Event kinds, in the order a transfer produces them.
const (
	// EventWaitingForPort: every port of the range is busy; Listen waits.
	EventWaitingForPort EventKind = "waiting-for-port"
	// EventListening: the sender listens on Port.
	EventListening EventKind = "listening"
	// EventRefused: the sender closed a connection with a wrong cookie.
	EventRefused EventKind = "refused"
	// EventConnected: the MSNFTP handshake is done, data follows.
	EventConnected EventKind = "connected"
	// EventProgress: Bytes of Total have been sent or written.
	EventProgress EventKind = "progress"
	// EventDone: the transfer completed (Path set on the receiver).
	EventDone EventKind = "done"
	// EventFailed: the transfer failed or was cancelled (Err set).
	EventFailed EventKind = "failed"
)

// Event reports the state of one transfer, identified by its Cookie
// (the Invitation-Cookie). Progress events come at most once per buffer
// (256 KiB) of data; a user interface should rate-limit them further.
type Event struct {
	Kind   EventKind
	Cookie uint32
	Port   int    // EventListening, EventWaitingForPort (0)
	Bytes  int64  // EventProgress, EventDone
	Total  int64  // EventProgress, EventDone
	Path   string // EventDone on the receiver
	Detail string // human-readable detail
	Err    error  // EventFailed
}

// Default timeouts.
const (
	// DefaultPortWait is how long Listen waits for a free port.
	DefaultPortWait = 30 * time.Second
	// DefaultAcceptTimeout is how long a sender waits for the receiver to
	// connect; Windows Messenger gives up after 30 s with FTTIMEOUT.
	DefaultAcceptTimeout = 30 * time.Second
	// DefaultIdleTimeout bounds any wait for the peer once connected.
	DefaultIdleTimeout = 60 * time.Second
	// bufSize is the I/O buffer of one transfer direction.
	bufSize = 256 << 10
	// encBlocks is how many blocks the sender frames per write.
	encBlocks = bufSize / (MaxBlock + 3)
)

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// interrupter unblocks I/O on conn when ctx ends, and lets the owner take
// the connection back to send a last word (CCL, cancel block).
type interrupter struct {
	conn net.Conn
	stop func() bool
	mu   sync.Mutex
	done bool
}

func interruptOn(ctx context.Context, conn net.Conn) *interrupter {
	it := &interrupter{conn: conn}
	it.stop = context.AfterFunc(ctx, func() {
		it.mu.Lock()
		defer it.mu.Unlock()
		if !it.done {
			conn.SetDeadline(time.Now())
		}
	})
	return it
}

// release stops the interruption; afterwards the owner may set deadlines.
func (it *interrupter) release() {
	it.stop()
	it.mu.Lock()
	it.done = true
	it.mu.Unlock()
}

// CancelCodeFor returns the Cancel-Code to send in the conversation when a
// negotiation or transfer ends with err ("" for nil).
func CancelCodeFor(err error) CancelCode {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrNoSpace):
		return CancelReject
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return CancelFTTimeout
	case errors.Is(err, context.Canceled):
		return CancelOutbandCancel
	}
	return CancelFail
}

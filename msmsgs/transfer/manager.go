// Package transfer is the file transfer manager of msmsgs: it turns the
// MSNFTP invitations of a signed-in client into transfers the user answers
// (accept, reject, cancel), runs them with the msnftp engine and publishes
// their progress as ft-* events on the client's event stream.
//
// Files: manager.go (the registry and its events), offer.go (invitations
// received), send.go (files sent), receive.go (files received), end.go
// (how a transfer ends), settings.go and rate.go.
package transfer

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnftp"
)

// File transfer event types (published on the client's event stream).
const (
	EventOffer       = "ft-offer"        // a contact offers a file
	EventWaitingPort = "ft-waiting-port" // every port of the range is busy
	EventListening   = "ft-listening"    // the sender listens for the receiver
	EventProgress    = "ft-progress"     // bytes of total done (rate-limited)
	EventDone        = "ft-done"         // the file was delivered completely
	EventFailed      = "ft-failed"       // the transfer failed
	EventCancelled   = "ft-cancelled"    // rejected or cancelled by either side
)

// Transfer states shown by `msmsgs ctl transfers`.
const (
	StateOffered      = "offered"      // INVITE sent or received, no answer yet
	StateAccepted     = "accepted"     // the receiver accepted; connecting
	StateTransferring = "transferring" // data is flowing
	StateDone         = "done"
	StateFailed       = "failed"
	StateCancelled    = "cancelled"
)

// progressEvery rate-limits ft-progress events per transfer.
const progressEvery = 500 * time.Millisecond

// answerTimeout bounds the wait for the sender's ACCEPT after we accepted.
const answerTimeout = 2 * time.Minute

// keepFinished is how many finished transfers `transfers` still lists.
const keepFinished = 64

// Transfer is one file transfer, sent or received.
type Transfer struct {
	Cookie       uint32    `json:"cookie"`
	Direction    string    `json:"direction"` // send or receive
	Peer         string    `json:"peer"`
	File         string    `json:"file"` // name as offered
	Size         int64     `json:"size"`
	State        string    `json:"state"`
	Bytes        int64     `json:"bytes"`
	Path         string    `json:"path,omitempty"`
	SHA256       string    `json:"sha256,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	Error        string    `json:"error,omitempty"`
	Conversation string    `json:"conversation,omitempty"`
	Started      time.Time `json:"started"`

	offer    *msnftp.Invitation
	conv     *client.Conversation
	ctx      context.Context
	cancel   context.CancelFunc
	answer   chan *msnftp.Invitation // the peer's ACCEPT (or CANCEL)
	start    chan struct{}           // receiver: the user accepted
	done     chan struct{}           // closed when the transfer ended
	finished time.Time
	lastProg time.Time
	peerGone bool              // the peer cancelled or rejected (no CANCEL back)
	peerCode msnftp.CancelCode // the peer's Cancel-Code
}

// Manager runs the file transfers of one signed-in user.
type Manager struct {
	lang      *msgslang.Catalog
	cl        *client.Client
	log       *slog.Logger
	sender    *msnftp.Sender
	recv      *msnftp.Receiver
	address   string // configured IP to advertise ("" = automatic)
	auto      bool   // accept offers without asking
	sendRate  int64  // bytes per second per transfer, 0 = unlimited
	ctx       context.Context
	wg        sync.WaitGroup // running transfer goroutines
	openMu    sync.Mutex     // one conversation opening at a time
	mu        sync.Mutex
	transfers map[uint32]*Transfer
}

// Config configures a Manager: the msmsgs.ft_* and msmsgs.downloads
// settings as written in the settings file, checked by New.
type Config struct {
	Downloads  string // folder for received files
	Ports      string // listening ports LOW-HIGH or PORT ("" = 6891-6900)
	MaxSize    string // largest file accepted (K, M, G suffixes; "" = free space)
	Address    string // IP address advertised to receivers ("" = automatic)
	SendRate   string // bytes per second per file sent ("" = unlimited)
	AutoAccept bool   // accept offers without asking

	Lang   *msgslang.Catalog // user-visible texts
	Logger *slog.Logger
}

// New builds the file transfer component. Call Start with the client
// before it signs in; give OnInvite to the client as its invitation
// handler.
func New(c Config) (*Manager, error) {
	l, log := c.Lang, c.Logger
	if l == nil {
		return nil, errors.New("transfer: no Lang catalog")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	low, high, err := parsePortRange(c.Ports, l)
	if err != nil {
		return nil, err
	}
	ports, err := msnftp.NewPorts("", low, high)
	if err != nil {
		return nil, errors.New(l.Text("err.ft-ports", c.Ports, err))
	}
	maxSize, err := ParseSize(c.MaxSize)
	if err != nil {
		return nil, errors.New(l.Text("err.ft-max-size", c.MaxSize, err))
	}
	rate, err := ParseSize(c.SendRate)
	if err != nil {
		return nil, errors.New(l.Text("err.ft-send-rate", c.SendRate, err))
	}
	if c.Address != "" {
		if _, err := netip.ParseAddr(c.Address); err != nil {
			return nil, errors.New(l.Text("err.ft-address", c.Address))
		}
	}
	m := &Manager{
		lang:      l,
		log:       log,
		address:   c.Address,
		auto:      c.AutoAccept,
		sendRate:  rate,
		ctx:       context.Background(),
		transfers: make(map[uint32]*Transfer),
	}
	m.sender = &msnftp.Sender{Ports: ports, Address: "127.0.0.1", Notify: m.onEngineEvent}
	m.recv = &msnftp.Receiver{Dir: c.Downloads, MaxSize: maxSize, Notify: m.onEngineEvent}
	return m, nil
}

// text returns the user-visible string for key.
func (m *Manager) text(key string, args ...any) string { return m.lang.Text(key, args...) }

// Start attaches the client and prepares the downloads folder.
func (m *Manager) Start(ctx context.Context, cl *client.Client) {
	m.cl = cl
	m.ctx = ctx
	m.recv.Email = cl.Account()
	if err := os.MkdirAll(m.recv.Dir, 0o700); err != nil {
		m.log.Warn(m.text("log.ft-downloads"), "dir", m.recv.Dir, "err", err)
		return
	}
	if err := m.recv.RemoveStale(); err != nil {
		m.log.Warn(m.text("log.ft-downloads"), "dir", m.recv.Dir, "err", err)
	}
}

// Stop waits (up to 15 s) for the transfers to end after the context
// given to Start was cancelled.
func (m *Manager) Stop() {
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(15 * time.Second)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		m.log.Warn("file transfers still running at exit")
	}
}

// publish sends a file transfer event to the event stream.
func (m *Manager) publish(e client.Event) {
	if m.cl != nil {
		m.cl.Publish(e)
	}
}

func (m *Manager) get(cookie uint32) *Transfer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.transfers[cookie]
}

// add registers t; it fails when the cookie is taken by a running transfer.
func (m *Manager) add(t *Transfer) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.transfers[t.Cookie]; ok && old.finished.IsZero() {
		return false
	}
	m.transfers[t.Cookie] = t
	m.pruneLocked()
	return true
}

// pruneLocked forgets the oldest finished transfers beyond keepFinished.
func (m *Manager) pruneLocked() {
	var fin []*Transfer
	for _, t := range m.transfers {
		if !t.finished.IsZero() {
			fin = append(fin, t)
		}
	}
	if len(fin) <= keepFinished {
		return
	}
	sort.Slice(fin, func(i, j int) bool { return fin[i].finished.Before(fin[j].finished) })
	for _, t := range fin[:len(fin)-keepFinished] {
		delete(m.transfers, t.Cookie)
	}
}

// List returns a snapshot of all transfers, oldest first.
func (m *Manager) List() []Transfer {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Transfer, 0, len(m.transfers))
	for _, t := range m.transfers {
		out = append(out, t.snapshotLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

func (t *Transfer) snapshotLocked() Transfer {
	return Transfer{Cookie: t.Cookie, Direction: t.Direction, Peer: t.Peer, File: t.File, Size: t.Size,
		State: t.State, Bytes: t.Bytes, Path: t.Path, SHA256: t.SHA256, Reason: t.Reason, Error: t.Error,
		Conversation: t.Conversation, Started: t.Started}
}

func (m *Manager) setState(t *Transfer, state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.finished.IsZero() {
		t.State = state
	}
}

// finish ends t once with state and publishes e (the end event).
func (m *Manager) finish(t *Transfer, state string, e client.Event) bool {
	m.mu.Lock()
	if !t.finished.IsZero() {
		m.mu.Unlock()
		return false
	}
	t.finished = time.Now()
	t.State = state
	t.Reason = e.Reason
	t.Error = e.Error
	if state == StateDone {
		t.Bytes = t.Size
	}
	m.mu.Unlock()
	t.cancel()
	close(t.done)
	e.Cookie = t.Cookie
	e.Account = t.Peer
	e.File = t.File
	e.Conversation = t.Conversation
	m.publish(e)
	return true
}

// onEngineEvent turns msnftp events into msmsgs events.
func (m *Manager) onEngineEvent(ev msnftp.Event) {
	t := m.get(ev.Cookie)
	if t == nil {
		return
	}
	switch ev.Kind {
	case msnftp.EventWaitingForPort:
		m.publish(client.Event{Type: EventWaitingPort, Cookie: t.Cookie, Account: t.Peer, File: t.File, Text: ev.Detail})
	case msnftp.EventListening:
		m.publish(client.Event{Type: EventListening, Cookie: t.Cookie, Account: t.Peer, File: t.File, Port: ev.Port})
	case msnftp.EventConnected:
		m.setState(t, StateTransferring)
	case msnftp.EventProgress:
		m.mu.Lock()
		t.Bytes = ev.Bytes
		now := time.Now()
		due := now.Sub(t.lastProg) >= progressEvery && t.finished.IsZero()
		if due {
			t.lastProg = now
		}
		m.mu.Unlock()
		if due {
			m.publish(client.Event{Type: EventProgress, Cookie: t.Cookie, Account: t.Peer, File: t.File, Bytes: ev.Bytes, Total: ev.Total})
		}
	}
}

// Wait blocks until t ends or ctx ends and returns t's final snapshot.
func (m *Manager) Wait(ctx context.Context, t *Transfer) (Transfer, error) {
	select {
	case <-t.done:
	case <-ctx.Done():
		return Transfer{}, ctx.Err()
	}
	m.mu.Lock()
	s := t.snapshotLocked()
	m.mu.Unlock()
	if s.State != StateDone {
		return s, errors.New(m.text("err.ft-not-delivered", s.File, s.Reason, s.Error))
	}
	return s, nil
}

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnftp"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// File transfer event types (published on the client's event stream).
const (
	evFTOffer       = "ft-offer"        // a contact offers a file
	evFTWaitingPort = "ft-waiting-port" // every port of the range is busy
	evFTListening   = "ft-listening"    // the sender listens for the receiver
	evFTProgress    = "ft-progress"     // bytes of total done (rate-limited)
	evFTDone        = "ft-done"         // the file was delivered completely
	evFTFailed      = "ft-failed"       // the transfer failed
	evFTCancelled   = "ft-cancelled"    // rejected or cancelled by either side
)

// Transfer states shown by `msmsgs ctl transfers`.
const (
	ftOffered      = "offered"      // INVITE sent or received, no answer yet
	ftAccepted     = "accepted"     // the receiver accepted; connecting
	ftTransferring = "transferring" // data is flowing
	ftDone         = "done"
	ftFailed       = "failed"
	ftCancelled    = "cancelled"
)

// progressEvery rate-limits ft-progress events per transfer.
const progressEvery = 500 * time.Millisecond

// answerTimeout bounds the wait for the sender's ACCEPT after we accepted.
const answerTimeout = 2 * time.Minute

// keepFinished is how many finished transfers `transfers` still lists.
const keepFinished = 64

// transfer is one file transfer, sent or received.
type transfer struct {
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

// ftManager runs the file transfers of one signed-in user.
type ftManager struct {
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
	transfers map[uint32]*transfer
}

// newFTManager builds the file transfer component from settings. Call
// start with the client before it signs in.
func newFTManager(s *settings, log *slog.Logger) (*ftManager, error) {
	low, high, err := parsePortRange(s.FTPorts)
	if err != nil {
		return nil, err
	}
	ports, err := msnftp.NewPorts("", low, high)
	if err != nil {
		return nil, errors.New(text("err.ft-ports", s.FTPorts, err))
	}
	maxSize, err := parseSize(s.FTMaxSize)
	if err != nil {
		return nil, errors.New(text("err.ft-max-size", s.FTMaxSize, err))
	}
	rate, err := parseSize(s.FTSendRate)
	if err != nil {
		return nil, errors.New(text("err.ft-send-rate", s.FTSendRate, err))
	}
	if s.FTAddress != "" {
		if _, err := netip.ParseAddr(s.FTAddress); err != nil {
			return nil, errors.New(text("err.ft-address", s.FTAddress))
		}
	}
	m := &ftManager{
		log:       log,
		address:   s.FTAddress,
		auto:      s.FTAutoAccept,
		sendRate:  rate,
		ctx:       context.Background(),
		transfers: make(map[uint32]*transfer),
	}
	m.sender = &msnftp.Sender{Ports: ports, Address: "127.0.0.1", Notify: m.onEngineEvent}
	m.recv = &msnftp.Receiver{Dir: s.downloadsDir(), MaxSize: maxSize, Notify: m.onEngineEvent}
	return m, nil
}

// start attaches the client and prepares the downloads folder.
func (m *ftManager) start(ctx context.Context, cl *client.Client) {
	m.cl = cl
	m.ctx = ctx
	m.recv.Email = cl.Account()
	if err := os.MkdirAll(m.recv.Dir, 0o700); err != nil {
		m.log.Warn(text("log.ft-downloads"), "dir", m.recv.Dir, "err", err)
		return
	}
	if err := m.recv.RemoveStale(); err != nil {
		m.log.Warn(text("log.ft-downloads"), "dir", m.recv.Dir, "err", err)
	}
}

// stop waits (up to 15 s) for the transfers to end after the context
// given to start was cancelled.
func (m *ftManager) stop() {
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

// parsePortRange parses "6891-6900" or "6891" ("" is the default range).
func parsePortRange(s string) (int, int, error) {
	if s == "" {
		return msnftp.DefaultPortLow, msnftp.DefaultPortHigh, nil
	}
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		hi = lo
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(lo))
	h, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil || l < 1 || h > 65535 || l > h {
		return 0, 0, errors.New(text("err.ft-ports", s, "want LOW-HIGH or PORT"))
	}
	return l, h, nil
}

// parseSize parses a byte count with an optional K, M or G (binary) suffix;
// "" is 0.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("want a number of bytes, optionally with K, M or G")
	}
	return n * mult, nil
}

// downloadsDir is msmsgs.downloads or its default.
func (s *settings) downloadsDir() string {
	if s.Downloads != "" {
		return s.Downloads
	}
	if s.StateDir != "" {
		return filepath.Join(s.StateDir, "downloads")
	}
	return defaultDownloads
}

// defaultDownloads is the downloads folder when no state directory is set.
const defaultDownloads = "/var/lib/msmsgs/downloads"

// publish sends a file transfer event to the event stream.
func (m *ftManager) publish(e client.Event) {
	if m.cl != nil {
		m.cl.Publish(e)
	}
}

func (m *ftManager) get(cookie uint32) *transfer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.transfers[cookie]
}

// add registers t; it fails when the cookie is taken by a running transfer.
func (m *ftManager) add(t *transfer) bool {
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
func (m *ftManager) pruneLocked() {
	var fin []*transfer
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

// list returns a snapshot of all transfers, oldest first.
func (m *ftManager) list() []transfer {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]transfer, 0, len(m.transfers))
	for _, t := range m.transfers {
		out = append(out, t.snapshotLocked())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

func (t *transfer) snapshotLocked() transfer {
	return transfer{Cookie: t.Cookie, Direction: t.Direction, Peer: t.Peer, File: t.File, Size: t.Size,
		State: t.State, Bytes: t.Bytes, Path: t.Path, SHA256: t.SHA256, Reason: t.Reason, Error: t.Error,
		Conversation: t.Conversation, Started: t.Started}
}

func (m *ftManager) setState(t *transfer, state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.finished.IsZero() {
		t.State = state
	}
}

// finish ends t once with state and publishes e (the end event).
func (m *ftManager) finish(t *transfer, state string, e client.Event) bool {
	m.mu.Lock()
	if !t.finished.IsZero() {
		m.mu.Unlock()
		return false
	}
	t.finished = time.Now()
	t.State = state
	t.Reason = e.Reason
	t.Error = e.Error
	if state == ftDone {
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
func (m *ftManager) onEngineEvent(ev msnftp.Event) {
	t := m.get(ev.Cookie)
	if t == nil {
		return
	}
	switch ev.Kind {
	case msnftp.EventWaitingForPort:
		m.publish(client.Event{Type: evFTWaitingPort, Cookie: t.Cookie, Account: t.Peer, File: t.File, Text: ev.Detail})
	case msnftp.EventListening:
		m.publish(client.Event{Type: evFTListening, Cookie: t.Cookie, Account: t.Peer, File: t.File, Port: ev.Port})
	case msnftp.EventConnected:
		m.setState(t, ftTransferring)
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
			m.publish(client.Event{Type: evFTProgress, Cookie: t.Cookie, Account: t.Peer, File: t.File, Bytes: ev.Bytes, Total: ev.Total})
		}
	}
}

// sendInvite sends one invitation message in conv. Only the first INVITE
// waits for the service's ACK; answers go out without waiting, so they can
// be sent from the conversation's reader.
func sendInvite(ctx context.Context, conv *client.Conversation, inv *msnftp.Invitation, mode msnp.AckMode) error {
	msg, err := msnp.NewInviteMessage(inv.Header())
	if err != nil {
		return fmt.Errorf("msmsgs: file transfer: %w", err)
	}
	return conv.SendMessage(ctx, msg, mode)
}

// sendCancel tells the peer the transfer ended, unless the peer ended it.
func (m *ftManager) sendCancel(t *transfer, code msnftp.CancelCode) {
	m.mu.Lock()
	gone := t.peerGone
	m.mu.Unlock()
	if gone || code == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
	defer cancel()
	if err := sendInvite(ctx, t.conv, t.offer.Cancel(code), msnp.AckNegative); err != nil {
		m.log.Debug("file transfer: CANCEL not sent", "cookie", t.Cookie, "err", err)
	}
}

// SendFile offers path to account and runs the transfer in the background.
// name, if not empty, is the file name offered instead of path's base name.
func (m *ftManager) SendFile(ctx context.Context, account, path, name string) (*transfer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New(text("err.ft-open", path, err))
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, errors.New(text("err.ft-not-file", path))
	}
	if name == "" {
		name = filepath.Base(path)
	}
	offer, err := msnftp.NewOffer(name, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	m.openMu.Lock()
	conv, err := m.cl.OpenOrReuse(ctx, account)
	m.openMu.Unlock()
	if err != nil {
		f.Close()
		return nil, errors.New(text("err.ft-conv", account, err))
	}
	abs, _ := filepath.Abs(path)
	t := m.newTransfer(offer, "send", strings.ToLower(account), conv)
	t.Path = abs
	if !m.add(t) {
		f.Close()
		return nil, errors.New(text("err.ft-cookie"))
	}
	if err := sendInvite(ctx, conv, offer, msnp.AckFull); err != nil {
		f.Close()
		m.finish(t, ftFailed, client.Event{Type: evFTFailed, Reason: "undelivered", Error: err.Error()})
		return nil, errors.New(text("err.ft-invite", account, err))
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.runSend(t, f)
	}()
	return t, nil
}

func (m *ftManager) newTransfer(offer *msnftp.Invitation, dir, peer string, conv *client.Conversation) *transfer {
	ctx, cancel := context.WithCancel(m.ctx)
	return &transfer{
		Cookie: offer.Cookie, Direction: dir, Peer: peer, File: offer.FileName, Size: offer.FileSize,
		State: ftOffered, Conversation: conv.ID(), Started: time.Now().UTC(),
		offer: offer, conv: conv, ctx: ctx, cancel: cancel,
		answer: make(chan *msnftp.Invitation, 1), start: make(chan struct{}), done: make(chan struct{}),
	}
}

// runSend waits for the receiver's answer, listens and serves the file.
func (m *ftManager) runSend(t *transfer, f *os.File) {
	defer f.Close()
	var ans *msnftp.Invitation
	select {
	case ans = <-t.answer:
	case <-t.ctx.Done():
		m.endWith(t, t.ctx.Err())
		return
	case <-t.conv.Done():
		m.endWith(t, errors.New(text("err.ft-conv-closed", t.Peer)))
		return
	}
	if ans.Command == msnftp.CommandCancel {
		m.peerEnded(t, ans.CancelCode)
		return
	}
	m.setState(t, ftAccepted)
	l, err := m.sender.Listen(t.ctx, t.offer)
	if err != nil {
		m.endWith(t, err)
		return
	}
	acc := l.Accept()
	acc.IPAddress, acc.IPAddressInternal = m.advertise(t.conv)
	if err := sendInvite(t.ctx, t.conv, acc, msnp.AckNegative); err != nil {
		l.Close()
		m.endWith(t, err)
		return
	}
	var r io.Reader = f
	if m.sendRate > 0 {
		r = &rateReader{r: f, rate: m.sendRate, ctx: t.ctx, start: time.Now()}
	}
	if err := l.Serve(t.ctx, r); err != nil {
		m.endWith(t, err)
		return
	}
	m.finish(t, ftDone, client.Event{Type: evFTDone, Path: t.Path, Size: t.Size})
}

// advertise returns the IP-Address and IP-Address-Internal for an ACCEPT
// sent in conv: msmsgs.ft_address if set, else the address the service saw
// us at (ClientIP) with the local address of the conversation as internal
// address when they differ, else the local address.
func (m *ftManager) advertise(conv *client.Conversation) (ext, internal string) {
	local := ""
	if ap, err := netip.ParseAddrPort(conv.LocalAddr().String()); err == nil {
		local = ap.Addr().Unmap().String()
	} else if host, _, err := net.SplitHostPort(conv.LocalAddr().String()); err == nil {
		if ip, err := netip.ParseAddr(host); err == nil {
			local = ip.Unmap().String()
		}
	}
	ext = m.address
	if ext == "" {
		ext = m.cl.ClientIP()
	}
	switch {
	case ext == "" && local == "":
		return "127.0.0.1", ""
	case ext == "":
		return local, ""
	case local == "" || local == ext:
		return ext, ""
	}
	return ext, local
}

// endWith ends t after err: a cancel by us, by the peer, or a failure.
// It runs on the transfer's goroutine after the engine returned, so no
// temporary file is left when the end event is published.
func (m *ftManager) endWith(t *transfer, err error) {
	m.mu.Lock()
	gone, code := t.peerGone, t.peerCode
	m.mu.Unlock()
	switch {
	case gone && (code == msnftp.CancelReject || code == msnftp.CancelRejectNotInstalled):
		m.finish(t, ftCancelled, client.Event{Type: evFTCancelled, Reason: "rejected-by-peer", Error: text("ft.rejected", t.Peer, code)})
	case gone && code != "":
		m.finish(t, ftCancelled, client.Event{Type: evFTCancelled, Reason: "cancelled-by-peer", Error: text("ft.peer-cancelled-code", t.Peer, code)})
	case gone || errors.Is(err, msnftp.ErrCancelled):
		m.mu.Lock()
		t.peerGone = true
		m.mu.Unlock()
		m.finish(t, ftCancelled, client.Event{Type: evFTCancelled, Reason: "cancelled-by-peer", Error: text("ft.peer-cancelled")})
	case errors.Is(err, context.Canceled) && m.ctx.Err() == nil:
		m.sendCancel(t, msnftp.CancelOutbandCancel)
		m.finish(t, ftCancelled, client.Event{Type: evFTCancelled, Reason: "cancelled", Error: text("ft.cancelled")})
	default:
		m.sendCancel(t, msnftp.CancelCodeFor(err))
		reason := strings.ToLower(string(msnftp.CancelCodeFor(err)))
		if errors.Is(err, msnftp.ErrNoFreePort) {
			reason = "no-free-port"
		}
		m.finish(t, ftFailed, client.Event{Type: evFTFailed, Reason: reason, Error: err.Error()})
	}
}

// peerEnded handles the peer's CANCEL: the transfer's goroutine stops the
// engine and publishes the end (see endWith).
func (m *ftManager) peerEnded(t *transfer, code msnftp.CancelCode) {
	m.mu.Lock()
	t.peerGone = true
	if code == "" {
		code = msnftp.CancelFail
	}
	t.peerCode = code
	m.mu.Unlock()
	t.cancel()
}

// onInvite handles a text/x-msmsgsinvite message from the conversation's
// reader goroutine: it must not block.
func (m *ftManager) onInvite(conv *client.Conversation, from string, fields msnp.Header) bool {
	inv, err := msnftp.FromHeader(fields)
	if err != nil {
		if strings.EqualFold(fields.Get("Application-GUID"), msnftp.FileTransferGUID) {
			m.log.Warn("file transfer: malformed invitation ignored", "from", from, "err", err)
			return true
		}
		return false
	}
	switch inv.Command {
	case msnftp.CommandInvite:
		if !inv.IsFileTransfer() {
			return false
		}
		m.onOffer(conv, from, inv)
		return true
	case msnftp.CommandAccept, msnftp.CommandCancel:
		t := m.get(inv.Cookie)
		if t == nil || t.Peer != from {
			return false
		}
		if inv.Command == msnftp.CommandCancel {
			m.peerEnded(t, inv.CancelCode)
			return true
		}
		select {
		case t.answer <- inv:
		default:
		}
		return true
	}
	return false
}

// onOffer registers a received offer and asks the user (or accepts it).
func (m *ftManager) onOffer(conv *client.Conversation, from string, inv *msnftp.Invitation) {
	t := m.newTransfer(inv, "receive", from, conv)
	reply := func(code msnftp.CancelCode) {
		go func() {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
			defer cancel()
			_ = sendInvite(ctx, conv, inv.Cancel(code), msnp.AckNegative)
		}()
	}
	if !m.add(t) {
		reply(msnftp.CancelFail)
		return
	}
	m.publish(client.Event{Type: evFTOffer, Cookie: t.Cookie, Account: from, File: t.File, Size: t.Size, Conversation: conv.ID()})
	if err := m.recv.Check(inv); err != nil {
		m.mu.Lock()
		t.peerGone = true // the refusal below is the answer
		m.mu.Unlock()
		reply(msnftp.CancelCodeFor(err))
		m.finish(t, ftFailed, client.Event{Type: evFTFailed, Reason: "refused", Error: err.Error()})
		return
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.runReceive(t)
	}()
	if m.auto {
		close(t.start)
	}
}

// Accept accepts the offer with cookie.
func (m *ftManager) Accept(cookie uint32) error {
	t, err := m.pending(cookie)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-t.start:
		return errors.New(text("err.ft-answered", cookie))
	default:
		close(t.start)
	}
	return nil
}

// Reject declines the offer with cookie.
func (m *ftManager) Reject(cookie uint32) error {
	t, err := m.pending(cookie)
	if err != nil {
		return err
	}
	m.sendCancel(t, msnftp.CancelReject)
	m.mu.Lock()
	t.peerGone = true
	m.mu.Unlock()
	m.finish(t, ftCancelled, client.Event{Type: evFTCancelled, Reason: "rejected", Error: text("ft.you-rejected")})
	return nil
}

// pending returns the received offer with cookie that waits for an answer.
func (m *ftManager) pending(cookie uint32) (*transfer, error) {
	t := m.get(cookie)
	if t == nil || t.Direction != "receive" {
		return nil, errors.New(text("err.ft-no-offer", cookie))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.State != ftOffered || !t.finished.IsZero() {
		return nil, errors.New(text("err.ft-answered", cookie))
	}
	return t, nil
}

// Cancel cancels a transfer in either direction, at any stage.
func (m *ftManager) Cancel(cookie uint32) error {
	t := m.get(cookie)
	if t == nil {
		return errors.New(text("err.ft-no-transfer", cookie))
	}
	m.mu.Lock()
	fin := !t.finished.IsZero()
	m.mu.Unlock()
	if fin {
		return errors.New(text("err.ft-finished", cookie, t.State))
	}
	t.cancel()
	<-t.done
	return nil
}

// runReceive waits for the user, accepts, waits for the sender's ACCEPT
// and receives the file.
func (m *ftManager) runReceive(t *transfer) {
	select {
	case <-t.start:
	case <-t.ctx.Done():
		m.endWith(t, t.ctx.Err())
		return
	case <-t.conv.Done():
		m.endWith(t, errors.New(text("err.ft-conv-closed", t.Peer)))
		return
	}
	m.setState(t, ftAccepted)
	if err := sendInvite(t.ctx, t.conv, t.offer.ReceiverAccept(), msnp.AckNegative); err != nil {
		m.endWith(t, err)
		return
	}
	timer := time.NewTimer(answerTimeout)
	defer timer.Stop()
	var acc *msnftp.Invitation
	select {
	case acc = <-t.answer:
	case <-t.ctx.Done():
		m.endWith(t, t.ctx.Err())
		return
	case <-timer.C:
		m.endWith(t, fmt.Errorf("msmsgs: %w: %s did not answer within %v", msnftp.ErrTimeout, t.Peer, answerTimeout))
		return
	case <-t.conv.Done():
		m.endWith(t, errors.New(text("err.ft-conv-closed", t.Peer)))
		return
	}
	path, err := m.recv.Receive(t.ctx, t.offer, acc)
	if err != nil {
		m.endWith(t, err)
		return
	}
	sum, err := fileSHA256(path)
	if err != nil {
		m.log.Warn("file transfer: hash received file", "path", path, "err", err)
	}
	m.mu.Lock()
	t.Path, t.SHA256 = path, sum
	m.mu.Unlock()
	m.finish(t, ftDone, client.Event{Type: evFTDone, Path: path, Size: t.Size, SHA256: sum})
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// wait blocks until t ends or ctx ends and returns t's final snapshot.
func (m *ftManager) wait(ctx context.Context, t *transfer) (transfer, error) {
	select {
	case <-t.done:
	case <-ctx.Done():
		return transfer{}, ctx.Err()
	}
	m.mu.Lock()
	s := t.snapshotLocked()
	m.mu.Unlock()
	if s.State != ftDone {
		return s, errors.New(text("err.ft-not-delivered", s.File, s.Reason, s.Error))
	}
	return s, nil
}

// rateReader limits reads to rate bytes per second (msmsgs.ft_send_rate).
type rateReader struct {
	r     io.Reader
	rate  int64
	ctx   context.Context
	start time.Time
	n     int64
}

func (r *rateReader) Read(p []byte) (int, error) {
	chunk := max(r.rate/10, 1)
	if int64(len(p)) > chunk {
		p = p[:chunk]
	}
	// Sleep until the bytes read so far are within the rate.
	due := r.start.Add(time.Duration(float64(r.n) / float64(r.rate) * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return 0, r.ctx.Err()
		}
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

// parseCookie parses a cookie argument.
func parseCookie(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, errors.New(text("err.ft-bad-cookie", s))
	}
	return uint32(n), nil
}

package transfer

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnftp"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// sendCancel tells the peer the transfer ended, unless the peer ended it.
func (m *Manager) sendCancel(t *Transfer, code msnftp.CancelCode) {
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

// endWith ends t after err: a cancel by us, by the peer, or a failure.
// It runs on the transfer's goroutine after the engine returned, so no
// temporary file is left when the end event is published.
func (m *Manager) endWith(t *Transfer, err error) {
	m.mu.Lock()
	gone, code := t.peerGone, t.peerCode
	m.mu.Unlock()
	switch {
	case gone && (code == msnftp.CancelReject || code == msnftp.CancelRejectNotInstalled):
		m.finish(t, StateCancelled, client.Event{Type: EventCancelled, Reason: "rejected-by-peer", Error: m.text("ft.rejected", t.Peer, code)})
	case gone && code != "":
		m.finish(t, StateCancelled, client.Event{Type: EventCancelled, Reason: "cancelled-by-peer", Error: m.text("ft.peer-cancelled-code", t.Peer, code)})
	case gone || errors.Is(err, msnftp.ErrCancelled):
		m.mu.Lock()
		t.peerGone = true
		m.mu.Unlock()
		m.finish(t, StateCancelled, client.Event{Type: EventCancelled, Reason: "cancelled-by-peer", Error: m.text("ft.peer-cancelled")})
	case errors.Is(err, context.Canceled) && m.ctx.Err() == nil:
		m.sendCancel(t, msnftp.CancelOutbandCancel)
		m.finish(t, StateCancelled, client.Event{Type: EventCancelled, Reason: "cancelled", Error: m.text("ft.cancelled")})
	default:
		m.sendCancel(t, msnftp.CancelCodeFor(err))
		reason := strings.ToLower(string(msnftp.CancelCodeFor(err)))
		if errors.Is(err, msnftp.ErrNoFreePort) {
			reason = "no-free-port"
		}
		m.finish(t, StateFailed, client.Event{Type: EventFailed, Reason: reason, Error: err.Error()})
	}
}

// peerEnded handles the peer's CANCEL: the transfer's goroutine stops the
// engine and publishes the end (see endWith).
func (m *Manager) peerEnded(t *Transfer, code msnftp.CancelCode) {
	m.mu.Lock()
	t.peerGone = true
	if code == "" {
		code = msnftp.CancelFail
	}
	t.peerCode = code
	m.mu.Unlock()
	t.cancel()
}

// Accept accepts the offer with cookie.
func (m *Manager) Accept(cookie uint32) error {
	t, err := m.pending(cookie)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case <-t.start:
		return errors.New(m.text("err.ft-answered", cookie))
	default:
		close(t.start)
	}
	return nil
}

// Reject declines the offer with cookie.
func (m *Manager) Reject(cookie uint32) error {
	t, err := m.pending(cookie)
	if err != nil {
		return err
	}
	m.sendCancel(t, msnftp.CancelReject)
	m.mu.Lock()
	t.peerGone = true
	m.mu.Unlock()
	m.finish(t, StateCancelled, client.Event{Type: EventCancelled, Reason: "rejected", Error: m.text("ft.you-rejected")})
	return nil
}

// pending returns the received offer with cookie that waits for an answer.
func (m *Manager) pending(cookie uint32) (*Transfer, error) {
	t := m.get(cookie)
	if t == nil || t.Direction != "receive" {
		return nil, errors.New(m.text("err.ft-no-offer", cookie))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if t.State != StateOffered || !t.finished.IsZero() {
		return nil, errors.New(m.text("err.ft-answered", cookie))
	}
	return t, nil
}

// Cancel cancels a transfer in either direction, at any stage.
func (m *Manager) Cancel(cookie uint32) error {
	t := m.get(cookie)
	if t == nil {
		return errors.New(m.text("err.ft-no-transfer", cookie))
	}
	m.mu.Lock()
	fin := !t.finished.IsZero()
	m.mu.Unlock()
	if fin {
		return errors.New(m.text("err.ft-finished", cookie, t.State))
	}
	t.cancel()
	<-t.done
	return nil
}

package transfer

import (
	"context"
	"strings"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnftp"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// OnInvite handles a text/x-msmsgsinvite message from the conversation's
// reader goroutine: it must not block.
func (m *Manager) OnInvite(conv *client.Conversation, from string, fields msnp.Header) bool {
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
func (m *Manager) onOffer(conv *client.Conversation, from string, inv *msnftp.Invitation) {
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
	m.publish(client.Event{Type: EventOffer, Cookie: t.Cookie, Account: from, File: t.File, Size: t.Size, Conversation: conv.ID()})
	if err := m.recv.Check(inv); err != nil {
		m.mu.Lock()
		t.peerGone = true // the refusal below is the answer
		m.mu.Unlock()
		reply(msnftp.CancelCodeFor(err))
		m.finish(t, StateFailed, client.Event{Type: EventFailed, Reason: "refused", Error: err.Error()})
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

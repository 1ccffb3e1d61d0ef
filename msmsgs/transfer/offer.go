package transfer

import (
	"context"
	"fmt"
	"strconv"
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
			m.malformedOffer(conv, from, fields, err)
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

// malformedOffer answers a file offer that cannot be parsed (a bad name
// or size) with CANCEL, so the sender does not wait for an answer, and
// tells the user.
func (m *Manager) malformedOffer(conv *client.Conversation, from string, fields msnp.Header, err error) {
	m.log.Warn("file transfer: malformed offer refused", "from", from, "err", err)
	if !strings.EqualFold(fields.Get("Invitation-Command"), string(msnftp.CommandInvite)) {
		return // a malformed answer: nothing to cancel
	}
	cookie, cerr := strconv.ParseUint(strings.TrimSpace(fields.Get("Invitation-Cookie")), 10, 32)
	if cerr != nil || cookie == 0 {
		return // no cookie the sender could match a CANCEL to
	}
	cancelMsg := &msnftp.Invitation{Command: msnftp.CommandCancel, Cookie: uint32(cookie), CancelCode: msnftp.CancelFail}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(m.ctx), 10*time.Second)
		defer cancel()
		if err := sendInvite(ctx, conv, cancelMsg, msnp.AckNegative); err != nil {
			m.log.Debug("file transfer: CANCEL of a malformed offer not sent", "from", from, "err", err)
		}
	}()
	m.publish(client.Event{Type: EventFailed, Cookie: uint32(cookie), Account: from, Conversation: conv.ID(),
		Reason: "malformed-offer", Error: fmt.Sprintf("msmsgs: %s offered a file this device cannot read (%v); the offer was declined, ask them to send it again", from, err)})
}

package transfer

import (
	"errors"
	"fmt"
	"time"

	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnftp"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// runReceive waits for the user, accepts, waits for the sender's ACCEPT
// and receives the file.
func (m *Manager) runReceive(t *Transfer) {
	select {
	case <-t.start:
	case <-t.ctx.Done():
		m.endWith(t, t.ctx.Err())
		return
	case <-t.conv.Done():
		m.endWith(t, errors.New(m.text("err.ft-conv-closed", t.Peer)))
		return
	}
	m.setState(t, StateAccepted)
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
		m.endWith(t, errors.New(m.text("err.ft-conv-closed", t.Peer)))
		return
	}
	path, err := m.recv.Receive(t.ctx, t.offer, acc)
	if err != nil {
		m.endWith(t, err)
		return
	}
	sum, err := fsutil.SHA256(path)
	if err != nil {
		m.log.Warn("file transfer: hash received file", "path", path, "err", err)
	}
	m.mu.Lock()
	t.Path, t.SHA256 = path, sum
	m.mu.Unlock()
	m.finish(t, StateDone, client.Event{Type: EventDone, Path: path, Size: t.Size, SHA256: sum})
}

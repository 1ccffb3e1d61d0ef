package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnftp"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

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

// SendFile offers path to account and runs the transfer in the background.
// name, if not empty, is the file name offered instead of path's base name.
func (m *Manager) SendFile(ctx context.Context, account, path, name string) (*Transfer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New(m.text("err.ft-open", path, err))
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, errors.New(m.text("err.ft-not-file", path))
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
		return nil, errors.New(m.text("err.ft-conv", account, err))
	}
	abs, _ := filepath.Abs(path)
	t := m.newTransfer(offer, "send", strings.ToLower(account), conv)
	t.Path = abs
	if !m.add(t) {
		f.Close()
		return nil, errors.New(m.text("err.ft-cookie"))
	}
	if err := sendInvite(ctx, conv, offer, msnp.AckFull); err != nil {
		f.Close()
		m.finish(t, StateFailed, client.Event{Type: EventFailed, Reason: "undelivered", Error: err.Error()})
		return nil, errors.New(m.text("err.ft-invite", account, err))
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.runSend(t, f)
	}()
	return t, nil
}

func (m *Manager) newTransfer(offer *msnftp.Invitation, dir, peer string, conv *client.Conversation) *Transfer {
	ctx, cancel := context.WithCancel(m.ctx)
	return &Transfer{
		Cookie: offer.Cookie, Direction: dir, Peer: peer, File: offer.FileName, Size: offer.FileSize,
		State: StateOffered, Conversation: conv.ID(), Started: time.Now().UTC(),
		offer: offer, conv: conv, ctx: ctx, cancel: cancel,
		answer: make(chan *msnftp.Invitation, 1), start: make(chan struct{}), done: make(chan struct{}),
	}
}

// runSend waits for the receiver's answer, listens and serves the file.
func (m *Manager) runSend(t *Transfer, f *os.File) {
	defer f.Close()
	var ans *msnftp.Invitation
	select {
	case ans = <-t.answer:
	case <-t.ctx.Done():
		m.endWith(t, t.ctx.Err())
		return
	case <-t.conv.Done():
		m.endWith(t, errors.New(m.text("err.ft-conv-closed", t.Peer)))
		return
	}
	if ans.Command == msnftp.CommandCancel {
		m.peerEnded(t, ans.CancelCode)
		return
	}
	m.setState(t, StateAccepted)
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
	m.finish(t, StateDone, client.Event{Type: EventDone, Path: t.Path, Size: t.Size})
}

// advertise returns the IP-Address and IP-Address-Internal for an ACCEPT
// sent in conv: msmsgs.ft_address if set, else the address the service saw
// us at (ClientIP) with the local address of the conversation as internal
// address when they differ, else the local address.
func (m *Manager) advertise(conv *client.Conversation) (ext, internal string) {
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

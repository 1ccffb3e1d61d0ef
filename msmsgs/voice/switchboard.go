package voice

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// ClientTransport carries invitations over the switchboard conversations
// of a msmsgs client. Pass Manager.InviteFunc (or a function that calls
// it first) as the client's Config.OnInvite.
type ClientTransport struct {
	C *client.Client
}

var _ Transport = ClientTransport{}

func (t ClientTransport) conv(id string) (*client.Conversation, error) {
	cv := t.C.Conversation(id)
	if cv == nil {
		return nil, fmt.Errorf("voice: conversation %s is not open", id)
	}
	return cv, nil
}

// Open returns the one-to-one conversation with account, opening one.
func (t ClientTransport) Open(ctx context.Context, account string) (string, error) {
	cv, err := t.C.OpenOrReuse(ctx, account)
	if err != nil {
		return "", err
	}
	return cv.ID(), nil
}

// Send sends body as a text/x-msmsgsinvite message and waits for its ACK.
func (t ClientTransport) Send(ctx context.Context, id string, body []byte) error {
	cv, err := t.conv(id)
	if err != nil {
		return err
	}
	h, err := msnp.ParseHeaderBlock(body)
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	msg, err := msnp.NewInviteMessage(h)
	if err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	return cv.SendMessage(ctx, msg, msnp.AckFull)
}

// LocalIP is the local address of the conversation's switchboard connection.
func (t ClientTransport) LocalIP(id string) (netip.Addr, error) {
	cv, err := t.conv(id)
	if err != nil {
		return netip.Addr{}, err
	}
	ta, ok := cv.LocalAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, fmt.Errorf("voice: conversation %s runs over %s, not TCP; no address to announce", id, cv.LocalAddr().Network())
	}
	a, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return netip.Addr{}, fmt.Errorf("voice: conversation %s: local address %s", id, ta)
	}
	return a.Unmap(), nil
}

// Done is closed when the conversation ends.
func (t ClientTransport) Done(id string) <-chan struct{} {
	cv := t.C.Conversation(id)
	if cv == nil {
		return nil
	}
	return cv.Done()
}

// InviteFunc returns a client.InviteFunc that hands voice invitations to m
// and reports false for others (file transfer), so the next handler or the
// client's REJECT_NOT_INSTALLED takes them.
func (m *Manager) InviteFunc() client.InviteFunc {
	return func(cv *client.Conversation, from string, fields msnp.Header) bool {
		return m.DeliverFields(cv.ID(), from, fields)
	}
}

package voice

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Role is our side of an invitation.
type Role int

// Roles.
const (
	Inviter Role = iota // we sent the INVITE
	Invitee             // we received it
)

func (r Role) String() string {
	if r == Inviter {
		return "inviter"
	}
	return "invitee"
}

// Phase is where an exchange stands.
type Phase int

// Phases of the invitation exchange.
const (
	Inviting   Phase = iota // inviter: INVITE sent, waiting for the invitee's ACCEPT
	Ringing                 // invitee: INVITE received, waiting for the user
	Accepting               // one ACCEPT is out, waiting for the other
	Signalling              // both ACCEPTs exchanged: SIP INVITE between the devices
	Connected               // SIP call established
	Ended
)

var phaseNames = [...]string{"inviting", "ringing", "accepting", "signalling", "connected", "ended"}

func (p Phase) String() string { return phaseNames[p] }

// Exchange is the state machine of one voice invitation, apart from any I/O:
// caller INVITE, then an ACCEPT from each side carrying the address where it
// listens for SIP, in either order, then the SIP call. The side whose ACCEPT
// went out first places the SIP INVITE (in Windows Messenger's usual order
// that is the invitee); the other side answers it, and only from the address
// its peer announced.
type Exchange struct {
	Role      Role
	Cookie    uint32
	SessionID string
	Phase     Phase
	Local     netip.AddrPort // our SIP address, sent in our ACCEPT
	Remote    netip.AddrPort // the peer's, from its ACCEPT

	localAccepted, remoteAccepted bool
	localFirst                    bool
}

// Step is what the owner of an Exchange must do after an event.
type Step struct {
	Send   *Invitation // send this to the peer
	Dial   bool        // place the SIP INVITE to Remote
	Answer bool        // wait for the SIP INVITE from Remote.Addr()
	Ended  string      // the exchange ended: a reason (peer's Cancel-Code...)
}

// ErrState is returned for events that do not fit the exchange's phase;
// the exchange is unchanged.
var ErrState = errors.New("voice: invitation out of order")

// NewOutgoing starts an exchange as inviter and returns the INVITE to send.
func NewOutgoing(cookie uint32, sessionID string, local netip.AddrPort) (*Exchange, *Invitation) {
	x := &Exchange{Role: Inviter, Cookie: cookie, SessionID: sessionID, Phase: Inviting, Local: local}
	return x, NewInvite(cookie, sessionID)
}

// NewIncoming starts an exchange as invitee from a received INVITE.
func NewIncoming(inv *Invitation, local netip.AddrPort) (*Exchange, error) {
	if inv.Command != CmdInvite {
		return nil, fmt.Errorf("%w: %s before INVITE", ErrState, inv.Command)
	}
	return &Exchange{Role: Invitee, Cookie: inv.Cookie, SessionID: inv.SessionID, Phase: Ringing, Local: local}, nil
}

// Accept is the local user's (invitee) or the inviter's own ACCEPT. The
// inviter may accept before the invitee did (the second order).
func (x *Exchange) Accept() (Step, error) {
	if x.localAccepted || x.Phase == Ended || x.Phase >= Signalling {
		return Step{}, fmt.Errorf("%w: accept in phase %s", ErrState, x.Phase)
	}
	x.localAccepted = true
	x.localFirst = !x.remoteAccepted
	st := Step{Send: NewAccept(x.Cookie, x.SessionID, x.Local)}
	x.advance(&st)
	return st, nil
}

// Receive applies an invitation from the peer with our cookie.
func (x *Exchange) Receive(inv *Invitation) (Step, error) {
	if inv.Cookie != x.Cookie {
		return Step{}, fmt.Errorf("%w: cookie %d is not this call's (%d)", ErrState, inv.Cookie, x.Cookie)
	}
	if x.Phase == Ended {
		return Step{}, fmt.Errorf("%w: the call has ended", ErrState)
	}
	if inv.SessionID != "" && x.SessionID != "" && !strings.EqualFold(inv.SessionID, x.SessionID) {
		return Step{}, fmt.Errorf("%w: Session-ID %s is not this call's", ErrState, inv.SessionID)
	}
	switch inv.Command {
	case CmdInvite:
		return Step{}, fmt.Errorf("%w: second INVITE with cookie %d", ErrState, inv.Cookie)
	case CmdCancel:
		x.Phase = Ended
		code := inv.CancelCode
		if code == "" {
			code = "CANCEL"
		}
		return Step{Ended: code}, nil
	}
	// ACCEPT
	if x.remoteAccepted {
		return Step{}, fmt.Errorf("%w: second ACCEPT", ErrState)
	}
	if x.Phase >= Signalling {
		return Step{}, fmt.Errorf("%w: ACCEPT in phase %s", ErrState, x.Phase)
	}
	if !inv.Addr.IsValid() {
		return Step{}, fmt.Errorf("%w: ACCEPT without IP-Address; the peer must say where it listens for SIP", ErrMalformed)
	}
	x.remoteAccepted = true
	x.Remote = inv.Addr
	var st Step
	if x.Role == Inviter && !x.localAccepted {
		// The usual order: the invitee accepted, the inviter answers with
		// its own address.
		x.localAccepted = true
		x.localFirst = false
		st.Send = NewAccept(x.Cookie, x.SessionID, x.Local)
	}
	x.advance(&st)
	return st, nil
}

func (x *Exchange) advance(st *Step) {
	if !x.localAccepted || !x.remoteAccepted {
		x.Phase = Accepting
		if x.Role == Invitee && !x.localAccepted {
			x.Phase = Ringing // the inviter's early ACCEPT: still up to the user
		}
		return
	}
	x.Phase = Signalling
	st.Dial = x.localFirst
	st.Answer = !x.localFirst
}

// Dials reports whether we place the SIP INVITE (valid in Signalling).
func (x *Exchange) Dials() bool { return x.localFirst }

// Yield makes us the answering side after SIP INVITEs crossed (both sides
// believed they accepted first). The invitee yields to the inviter.
func (x *Exchange) Yield() { x.localFirst = false }

// Connect marks the SIP call established.
func (x *Exchange) Connect() error {
	if x.Phase != Signalling {
		return fmt.Errorf("%w: SIP call in phase %s", ErrState, x.Phase)
	}
	x.Phase = Connected
	return nil
}

// End marks the exchange over and returns the CANCEL to send, if any: the
// inviter withdraws with USER_CANCEL, a ringing invitee declines with
// REJECT, and code overrides both (TIMEOUT, FAIL). Once connected the call
// ends by SIP BYE and nothing is sent here.
func (x *Exchange) End(code string) *Invitation {
	if x.Phase == Ended {
		return nil
	}
	ph := x.Phase
	x.Phase = Ended
	if ph == Connected {
		return nil
	}
	if code == "" {
		code = CancelUser
		if x.Role == Invitee && ph == Ringing {
			code = CancelReject
		}
	}
	return NewCancel(x.Cookie, x.SessionID, code)
}

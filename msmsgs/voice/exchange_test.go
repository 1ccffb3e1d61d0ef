package voice

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc"
)

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:6901")
	addrB = netip.MustParseAddrPort("10.0.0.2:6901")
)

// TestExchangeOrders plays two exchanges against each other in both orders
// of the ACCEPTs: the side whose ACCEPT went first dials.
func TestExchangeOrders(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		inviterFirst             bool
		wantInviterDials, wantEE bool
	}{
		{"invitee accepts first", false, false, true},
		{"inviter accepts first", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, inv := NewOutgoing(7, NewSessionID(), addrA)
			b, err := NewIncoming(inv, addrB)
			if err != nil {
				t.Fatal(err)
			}
			var sa, sb Step
			if tc.inviterFirst {
				st, err := a.Accept()
				if err != nil || st.Send == nil || st.Dial || st.Answer {
					t.Fatalf("inviter's early Accept = %+v, %v", st, err)
				}
				if st, err := b.Receive(st.Send); err != nil || st.Send != nil || b.Phase != Ringing {
					t.Fatalf("invitee receives the early ACCEPT: %+v, %v, phase %s; want still ringing", st, err, b.Phase)
				}
				sb, err = b.Accept()
				if err != nil {
					t.Fatal(err)
				}
				sa, err = a.Receive(sb.Send)
				if err != nil || sa.Send != nil {
					t.Fatalf("inviter receives the ACCEPT: %+v, %v; want nothing more to send", sa, err)
				}
			} else {
				sb, err = b.Accept()
				if err != nil {
					t.Fatal(err)
				}
				sa, err = a.Receive(sb.Send)
				if err != nil || sa.Send == nil {
					t.Fatalf("inviter receives the ACCEPT: %+v, %v; want its own ACCEPT", sa, err)
				}
				st, err := b.Receive(sa.Send)
				if err != nil {
					t.Fatal(err)
				}
				sb = st
			}
			if a.Phase != Signalling || b.Phase != Signalling {
				t.Fatalf("phases %s, %s; want signalling", a.Phase, b.Phase)
			}
			if sa.Dial != tc.wantInviterDials || sb.Dial != tc.wantEE || sa.Answer == sa.Dial || sb.Answer == sb.Dial {
				t.Errorf("inviter %+v, invitee %+v; want exactly the first accepter dialling", sa, sb)
			}
			if a.Remote != addrB || b.Remote != addrA {
				t.Errorf("remotes %s, %s", a.Remote, b.Remote)
			}
			// Out of order now: a third ACCEPT, a repeated INVITE.
			if _, err := a.Receive(NewAccept(7, a.SessionID, addrB)); err == nil {
				t.Error("second ACCEPT accepted")
			}
			if _, err := b.Receive(NewInvite(7, a.SessionID)); err == nil {
				t.Error("second INVITE accepted")
			}
			if a.Connect() != nil || a.End("") != nil {
				t.Error("a connected call ends by BYE, not CANCEL")
			}
		})
	}
}

func TestExchangeCancelCodes(t *testing.T) {
	a, inv := NewOutgoing(9, NewSessionID(), addrA)
	if c := a.End(""); c == nil || c.CancelCode != CancelUser {
		t.Errorf("inviter withdraws with %+v, want USER_CANCEL", c)
	}
	b, _ := NewIncoming(inv, addrB)
	if c := b.End(""); c == nil || c.CancelCode != CancelReject {
		t.Errorf("invitee declines with %+v, want REJECT", c)
	}
	if c := b.End(""); c != nil {
		t.Errorf("second End sent %+v", c)
	}
	x, _ := NewIncoming(inv, addrB)
	if st, err := x.Receive(NewCancel(9, "", CancelUser)); err != nil || st.Ended != CancelUser {
		t.Errorf("CANCEL received: %+v, %v", st, err)
	}
	y, _ := NewIncoming(inv, addrB)
	if _, err := y.Receive(NewCancel(10, "", CancelUser)); err == nil {
		t.Error("CANCEL with another cookie accepted")
	}
}

// TestGlare: both sides believe their ACCEPT went first and both dial; the
// inviter refuses ours with 491 and we, the invitee, answer its INVITE.
func TestGlare(t *testing.T) {
	p := newPipe()
	m, rec := newTestManager(t, p, &audioEnds{freq: 440}, nil)
	ours := make(chan struct{}, 1)
	peer, err := rtc.New(rtc.Config{ListenAddr: "127.0.0.1:0", Transports: []string{"tcp"}, OnIncoming: func(in *rtc.Incoming) {
		in.Reject(491)
		ours <- struct{}{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := peer.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	m.Deliver("c1", "alice@example.com", inviteBody(55))
	id := rec.wait(t, EventOffer, time.Second).Call
	if err := m.Answer(id); err != nil {
		t.Fatal(err)
	}
	expectSent(t, p, CmdAccept, "", 55)
	// The inviter's ACCEPT was on its way before ours arrived.
	m.Deliver("c1", "alice@example.com", acceptBody(55, "127.0.0.1:"+strconv.Itoa(peer.Port("tcp"))))
	select {
	case <-ours:
	case <-time.After(5 * time.Second):
		t.Fatal("the manager did not dial (it accepted first)")
	}
	c, err := peer.Dial(context.Background(), "sip:bob@127.0.0.1:"+strconv.Itoa(m.SIPPort()), rtc.CallOptions{Transport: "tcp"})
	if err != nil {
		t.Fatalf("inviter's own INVITE after the crossing: %v", err)
	}
	defer c.Hangup(context.Background())
	if e := rec.wait(t, EventConnected, 5*time.Second); e.Call != id {
		t.Errorf("call-connected %+v", e)
	}
}

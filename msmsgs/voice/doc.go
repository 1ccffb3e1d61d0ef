// Package voice is msmsgs's voice conversations: the invitation Windows
// Messenger 4.7 and 5.0 exchanged on an MSNP8 switchboard, and the SIP call
// between the two devices that follows it, through feature/rtc (SIP on TCP
// 6901, RTP/RTCP on UDP, G.711).
//
// # The invitation
//
// Each step is a text/x-msmsgsinvite MSG whose body is a block of fields
// (Parse, Invitation.Marshal; testdata/wm5-*.txt are wire transcripts):
//
//	inviter  INVITE  Application-Name, Application-GUID {02D3C01F-BF30-4825-A83A-DE7AF41648AA},
//	                 Session-Protocol SM1, Context-Data Requested:SIP_A,;Capabilities:SIP_A,;,
//	                 Invitation-Cookie, Session-ID {GUID}, Conn-Type, Sip-Capability 1
//	invitee  ACCEPT  Invitation-Cookie, Session-ID, Launch-Application TRUE, Request-Data IP-Address:,
//	                 IP-Address ip:port (where it takes the SIP INVITE), IP-Address-Enc64
//	inviter  ACCEPT  the same, with its own IP-Address
//	         SIP     the side whose ACCEPT went out first sends the SIP INVITE to
//	                 the other's IP-Address; the other answers it, only from that address
//	either   CANCEL  Cancel-Code USER_CANCEL (inviter withdraws), REJECT (declined or
//	                 busy), TIMEOUT (not answered), FAIL (no connection)
//
// Both orders of the ACCEPTs are taken: the usual one above, and the
// inviter's ACCEPT sent before the invitee's (then the inviter dials). If
// both believe they were first, the crossing SIP INVITEs are resolved for
// the inviter's (Exchange.Yield). Exchange is this state machine without
// I/O.
//
// # The call manager
//
// Manager runs one call at a time over a Transport (ClientTransport backs
// it with a msmsgs/client.Client). The daemon:
//
//   - builds it with New(Config, ClientTransport{C: client}) and Start;
//   - passes Manager.InviteFunc as (or first in) client.Config.OnInvite, so
//     voice invitations reach DeliverFields and others (file transfer) fall
//     through when it returns false;
//   - maps its commands onto Call, Answer, Decline, Hangup, DTMF, Mute and
//     Calls, and publishes Config.OnEvent's events (call-offer,
//     call-ringing, call-connected, call-stats, call-dtmf, call-ended,
//     call-declined);
//   - calls SignedOut when the client signs out and Close when it stops.
//
// A second invitation while a call runs is declined with CANCEL REJECT; an
// invitation that is malformed, from someone else than the call's peer,
// carries an address that is no host, or is one of a flood (more than
// Config.MaxInvites a minute in a conversation) is refused with a
// call-declined event and changes nothing else. The conversation closing,
// signing out, the peer hanging up and the peer vanishing (no RTP for
// Config.MediaTimeout) end the call with a reason.
package voice

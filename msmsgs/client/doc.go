// Package client is the MSNP8 messenger client behind msmsgs: the
// notification-server (NS) session and the switchboard (SB) conversations.
//
// A [Client] signs in (dispatch server, optional XFR NS redirect, VER/CVR,
// Passport 1.4 TWN sign-in through an injected [Login] function), keeps the
// contact lists from SYN (FL/AL/BL/RL and groups), tracks presence
// (ILN/NLN/FLN), sets its own status (CHG) and friendly name (REA), edits
// lists (ADD/REM), privacy (BLP/GTC), answers CHL with QRY and keeps the
// connection alive with PNG/QNG. A lost connection is reported and retried
// with exponential backoff; OUT OTH (signed in elsewhere) stops the client,
// OUT SSD (service going down) reconnects later.
//
// Conversations are switchboard sessions ([Conversation]): opened with XFR SB +
// USR + CAL, or accepted from RNG with ANS. Several can be open at once and
// each can hold several participants. Text messages are sent with
// acknowledgement mode A; [Client.Send] returns nil only after the ACK and an
// error wrapping [ErrUndelivered] otherwise (NAK, conversation closed before
// the ACK, timeout, contact offline). Received invitations
// (text/x-msmsgsinvite) go to [Config.OnInvite]; unhandled ones are
// answered with CANCEL.
//
// Everything the user should hear about is published as an [Event] to
// subscribers ([Client.Subscribe]).
package client

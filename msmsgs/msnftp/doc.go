// Package msnftp implements MSN Messenger file transfer as Windows Messenger
// 4.x/5.0 did it: the invitation exchanged inside a switchboard conversation
// (MIME text/x-msmsgsinvite with the File Transfer Application-GUID) and the
// MSNFTP session on a direct TCP connection.
//
// # Invitation
//
// The sender offers a file with an INVITE ([NewOffer]); the receiver answers
// with ACCEPT ([Invitation.ReceiverAccept]) or CANCEL with a [CancelCode]
// ([Invitation.Cancel]); on ACCEPT the sender listens and answers with its
// own ACCEPT carrying IP-Address, Port and AuthCookie ([Listener.Accept]).
// Either side may CANCEL at any time with the same Invitation-Cookie.
// [ParseInvitation] and [ParseMessage] read invitations from peers; they are
// bounded (see [MaxBodySize]) and reject duplicate or malformed fields.
//
// # MSNFTP
//
// The receiver connects to the sender and the two exchange CRLF lines:
//
//	R: VER MSNFTP          S: VER MSNFTP
//	R: USR email cookie    S: FIL size        (wrong cookie: connection closed)
//	R: TFR
//	S: data blocks: 0, len lo, len hi, then len (<= 2045) bytes of the file
//	R: BYE 16777989        (received), or CCL at any time (receiver cancels)
//
// The sender cancels with a block header whose first byte is 1 and closes.
// Both directions stream through fixed buffers: memory does not grow with
// the file size.
//
// # Ports
//
// A [Sender] listens on the first free port of its [Ports] range (default
// 6891-6900) and holds that port until the transfer ends, so a range of N
// ports allows N simultaneous transfers per sender; a range of one port
// gives one transfer at a time. When every port is busy, [Sender.Listen]
// reports [EventWaitingForPort] once and waits until a port is released, the
// context ends, or [Sender.PortWait] (default 30 s) passes; then it fails
// with [ErrNoFreePort]. A negative PortWait fails at once.
//
// # Receiving safely
//
// A [Receiver] writes only into its downloads folder. The peer's file name
// is reduced by [SafeName]; an existing file is never replaced (a numbered
// name "name (1).ext" is used); a size above [Receiver.MaxSize] or above the
// folder's free space is refused before any byte is written; data goes to a
// hidden temporary file in the same folder, is fsynced and then moved into
// place with no-replace semantics; a transfer that fails or is cancelled
// leaves no file behind. Where the file system supports it the whole size
// is reserved (fallocate) before data arrives, so a full disk is found
// early; a receiver that runs out of space answers BYE 2147942405.
//
// # Wiring into msmsgs
//
// [Invitation.Header] and [FromHeader] convert to and from the msnp header
// fields of a text/x-msmsgsinvite message. [Event] values (waiting for a
// port, listening, connected, progress, done, failed) map one to one to
// msmsgs events; [CancelCodeFor] gives the Cancel-Code to send when a
// transfer fails. Cancelling the context of Serve or Receive cancels the
// transfer in-band (cancel block or CCL); the conversation should then send
// a CANCEL as well.
//
// # Not supported
//
// Reversed connections (Sender-Connect: TRUE, the receiver listens, used
// by Windows Messenger 5 when the sender announced Connectivity: N) are
// parsed but not served: a Receiver always connects to the sender, and a
// Sender never announces Connectivity: N.
package msnftp

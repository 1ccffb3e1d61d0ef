// Package msnp implements the MSNP8 wire format spoken by Windows Messenger
// 4.7/5.0 (and the Windows CE 5.0 msmsgs client) to the .NET Messenger Service:
// dispatch, notification and switchboard command lines, payload commands, MIME
// messages, the CHL/QRY challenge answer, status and list names, numeric error
// codes and friendly-name URL encoding.
//
// # Commands
//
// A [Command] is one line: a three-character name, an optional transaction id
// and space-separated arguments, plus a payload for payload commands (MSG, QRY,
// NOT, ...; see [IsPayloadCommand]). For a payload command the byte length is
// the last argument on the wire; in a Command it is not in Args, it is
// len(Payload), and the formatter appends it.
//
//	c, err := msnp.ParseLine("USR 2 TWN I alice@example.com")
//	// c.Name == "USR", c.TrID == 2, c.Args == []string{"TWN", "I", "alice@example.com"}
//	line, err := msnp.AppendCommand(nil, msnp.Command{Name: "CHG", TrID: 5, Args: []string{"NLN", "0"}})
//	// line == "CHG 5 NLN 0\r\n"
//
// TrID is [NoTrID] (-1) for a line without a transaction id (NLN, FLN, RNG, JOI,
// server MSG, OUT, ...). Numeric error replies ("911 3") parse with Name "911";
// [Command.Err] turns them into a *[ServerError] whose [Code] has a
// plain-English text.
//
// # Reading and writing
//
// [NewReader] wraps a connection: [Reader.ReadCommand] reads one command with its
// payload, bounded by MaxLine (default [DefaultMaxLine], 4 KiB) and MaxPayload
// (default [MaxClientPayload], 1664 bytes, what a client may send; a client
// reading from a server sets [MaxServerPayload] or more). Its buffer starts small
// and grows only up to MaxLine, so idle connections cost little memory. Any
// over-long or malformed input is an error wrapping [ErrLineTooLong],
// [ErrPayloadTooLarge] or [ErrMalformed]: the caller closes the connection.
//
// [Reader.Wait] blocks until input is buffered without parsing it, so a
// server can park idle connections on a shallow stack.
//
// [NewWriter] formats and writes one command per Write call with a single write
// to the underlying connection; it is safe for concurrent use.
//
// # Messages
//
// [ParseMessage] and [Message.Bytes] handle the MIME-style payload of MSG:
// headers (case-insensitive [Header.Get], bounded count) and a body.
// [NewTextMessage], [NewTypingMessage] and [Message.ContentType] cover
// text/plain, text/x-msmsgscontrol (TypingUser), text/x-msmsgsinvite (body
// parsed with [ParseHeaderBlock]) and text/x-msmsgsprofile.
//
// # Other helpers
//
//   - [ChallengeResponse] computes the QRY answer to a CHL challenge
//     ([ProductID], [ProductKey]).
//   - [Status] (NLN BSY IDL BRB AWY PHN LUN HDN FLN) with [Status.Text];
//     [List] (FL AL BL RL) with [List.Bit] and [ListsFromMask].
//   - [AckMode] for switchboard MSG (U N A D).
//   - [EncodeName] / [DecodeName] for URL-encoded friendly names.
package msnp

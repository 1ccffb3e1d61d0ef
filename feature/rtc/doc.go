// Package rtc is the RTC Client API voice stack of the SYSGEN_RTC catalog
// item: a SIP user agent (RFC 3261, built on github.com/emiago/sipgo) that
// places and answers voice calls over UDP and TCP, on port 6901 by default as
// the Windows CE RTC stack did for Messenger voice.
//
// A Phone listens, dials (Dial) and hands incoming calls to
// Config.OnIncoming, which answers or rejects them (Incoming.Answer,
// Incoming.Reject). Signalling covers INVITE with provisional responses,
// ACK, BYE, CANCEL (sent when Dial's InviteTimeout or context ends), 486
// Busy Here beyond Config.MaxCalls, 480 after Config.RingTimeout, 488 when
// no codec matches (every INVITE the phone refuses itself is reported to
// Config.OnRefused), 491 surfaces as ErrGlare, and in-dialog re-INVITEs: a
// new remote media address is followed, and hold and resume follow RFC 3264
// (sendonly is answered recvonly, inactive with inactive; the held side
// stops sending RTP; Call.Held). A call that receives no RTP for
// Config.MediaTimeout is hung up, unless it is on hold.
//
// Media is negotiated by SDP offer/answer (package sdp): G.711 µ-law (PCMU)
// and A-law (PCMA), plus RFC 4733 telephone-event when the peer offers it.
// RTP and RTCP run on an even/odd UDP port pair from Config.MediaPorts
// (package media): 20 ms packets, an adaptive jitter buffer with loss
// concealment, and statistics (Call.Stats) that are live while the call
// runs, including round-trip time from RTCP reports. Telephone events share
// the audio's sequence numbers: they count as received, are not concealed
// and do not deepen the buffer; received digits reach CallOptions.OnDTMF.
//
// Audio enters and leaves through audio.Source and audio.Sink: 20 ms frames
// of 8 kHz mono samples. Package audio has WAV and tone implementations;
// package audio/device plays and captures through the device's sound card
// (drivers/audio). The lab tool is cmd/rtcphone.
package rtc

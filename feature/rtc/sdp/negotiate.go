package sdp

import (
	"fmt"
	"strings"
)

// Known codecs, by name, for building offers.
var (
	PCMU           = Codec{PT: PayloadPCMU, Name: "PCMU", Rate: 8000}
	PCMA           = Codec{PT: PayloadPCMA, Name: "PCMA", Rate: 8000}
	TelephoneEvent = Codec{PT: 101, Name: "telephone-event", Rate: 8000, Fmtp: "0-15"}
)

// CodecByName returns the known codec with that encoding name
// (case-insensitive): PCMU, PCMA or telephone-event.
func CodecByName(name string) (Codec, bool) {
	for _, c := range []Codec{PCMU, PCMA, TelephoneEvent} {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Codec{}, false
}

// NewAudio builds a session description with one audio stream of the given
// codecs at addr:port.
func NewAudio(sessionID, version uint64, addr string, port int, codecs []Codec, ptime int) *Session {
	m := Media{Type: "audio", Port: port, Proto: "RTP/AVP", Ptime: ptime, Direction: "sendrecv"}
	for _, c := range codecs {
		m.Formats = append(m.Formats, c.PT)
		m.Codecs = append(m.Codecs, c)
	}
	return &Session{Username: "-", SessionID: sessionID, Version: version, Origin: addr, Name: "-", Conn: addr, Media: []Media{m}}
}

// Choice is the outcome of offer/answer for the audio stream: what to send,
// where to send it.
type Choice struct {
	Audio     Codec  // voice codec, PCMU or PCMA
	Event     *Codec // telephone-event (RFC 4733) if both sides have it
	Addr      string // remote RTP address
	Port      int    // remote RTP port
	RTCPPort  int    // remote RTCP port (a=rtcp or Port+1)
	Ptime     int    // packet time the remote asked for, ms (0: default 20)
	Direction string // remote's direction attribute ("" = sendrecv)
}

// Negotiate matches a remote description against the local codec names
// (in preference order of the remote, as RFC 3264 answerers usually do).
// It is used by both sides: on an offer to build the answer, and on an
// answer to learn what the offerer must send.
func Negotiate(remote *Session, local []string) (Choice, error) {
	m := remote.Audio()
	if m == nil {
		return Choice{}, fmt.Errorf("sdp: no audio stream in the remote description: %w", ErrNoCommonCodec)
	}
	if m.Port == 0 {
		return Choice{}, fmt.Errorf("sdp: remote rejected the audio stream (port 0): %w", ErrNoCommonCodec)
	}
	if !strings.HasPrefix(m.Proto, "RTP/AVP") {
		return Choice{}, fmt.Errorf("sdp: media profile %q is not RTP/AVP (SRTP is not supported): %w", m.Proto, ErrNoCommonCodec)
	}
	ch := Choice{Addr: remote.Addr(m), Port: m.Port, RTCPPort: m.RTCPPort, Ptime: m.Ptime, Direction: m.Direction}
	if ch.RTCPPort == 0 {
		ch.RTCPPort = m.Port + 1
	}
	if ch.Addr == "" {
		return Choice{}, fmt.Errorf("sdp: no c= connection address for the audio stream")
	}
	found := false
	for _, c := range m.Codecs {
		if c.Rate != 8000 || c.Channels > 1 {
			continue
		}
		if strings.EqualFold(c.Name, "telephone-event") {
			if ch.Event == nil && hasName(local, c.Name) {
				ev := c
				ch.Event = &ev
			}
			continue
		}
		if !found && (strings.EqualFold(c.Name, "PCMU") || strings.EqualFold(c.Name, "PCMA")) && hasName(local, c.Name) {
			ch.Audio = c
			found = true
		}
	}
	if !found {
		return Choice{}, fmt.Errorf("sdp: remote offers %s, we support %s: %w", names(m.Codecs), strings.Join(local, ","), ErrNoCommonCodec)
	}
	return ch, nil
}

// Answer builds the answer to an offer given the choice made by Negotiate.
func Answer(ch Choice, sessionID, version uint64, addr string, port int) *Session {
	codecs := []Codec{ch.Audio}
	if ch.Event != nil {
		codecs = append(codecs, *ch.Event)
	}
	ptime := ch.Ptime
	if ptime == 0 {
		ptime = 20
	}
	s := NewAudio(sessionID, version, addr, port, codecs, ptime)
	switch ch.Direction {
	case "sendonly":
		s.Media[0].Direction = "recvonly"
	case "recvonly":
		s.Media[0].Direction = "sendonly"
	case "inactive":
		s.Media[0].Direction = "inactive"
	}
	return s
}

func hasName(list []string, name string) bool {
	for _, l := range list {
		if strings.EqualFold(l, name) {
			return true
		}
	}
	return false
}

func names(cs []Codec) string {
	var n []string
	for _, c := range cs {
		n = append(n, fmt.Sprintf("%s/%d", c.Name, c.Rate))
	}
	if len(n) == 0 {
		return "no codecs"
	}
	return strings.Join(n, ",")
}

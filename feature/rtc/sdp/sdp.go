// Package sdp parses and writes the subset of the Session Description
// Protocol (RFC 4566) that a voice call needs, and negotiates audio codecs by
// the offer/answer model (RFC 3264).
package sdp

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Static RTP payload types for the G.711 codecs (RFC 3551 section 6).
const (
	PayloadPCMU = 0
	PayloadPCMA = 8
)

// ErrNoCommonCodec is returned when an offer and the local codec list share no
// audio codec.
var ErrNoCommonCodec = errors.New("sdp: no common audio codec")

// maxSize bounds the SDP body we accept; a voice offer is well under 4 KiB.
const maxSize = 64 << 10

// Codec is one payload format of a media description (an a=rtpmap entry or a
// static payload type).
type Codec struct {
	PT       uint8  // RTP payload type
	Name     string // encoding name as written, e.g. "PCMU", "telephone-event"
	Rate     int    // clock rate in Hz
	Channels int    // 0 or 1 for mono
	Fmtp     string // a=fmtp parameters, e.g. "0-15"
}

// Media is one m= section.
type Media struct {
	Type      string  // "audio"
	Port      int     // RTP port; 0 means the stream is rejected
	Proto     string  // "RTP/AVP"
	Formats   []uint8 // payload types in preference order
	Codecs    []Codec // one per format that is known (static or a=rtpmap)
	Conn      string  // media-level c= address, "" if not given
	Ptime     int     // a=ptime in ms, 0 if absent
	Direction string  // sendrecv, sendonly, recvonly, inactive ("" means sendrecv)
	RTCPPort  int     // a=rtcp port, 0 if absent
	Other     []string
}

// Session is a parsed session description.
type Session struct {
	Username  string // o= username
	SessionID uint64 // o= sess-id
	Version   uint64 // o= sess-version
	Origin    string // o= unicast address
	Name      string // s=
	Conn      string // session-level c= address
	Media     []Media
}

// Addr returns the connection address that applies to m: the media-level c=
// when present, else the session-level one.
func (s *Session) Addr(m *Media) string {
	if m.Conn != "" {
		return m.Conn
	}
	return s.Conn
}

// Audio returns the first audio media section, or nil.
func (s *Session) Audio() *Media {
	for i := range s.Media {
		if s.Media[i].Type == "audio" {
			return &s.Media[i]
		}
	}
	return nil
}

// Codec returns the codec for payload type pt.
func (m *Media) Codec(pt uint8) (Codec, bool) {
	for _, c := range m.Codecs {
		if c.PT == pt {
			return c, true
		}
	}
	return Codec{}, false
}

// staticCodec returns the RFC 3551 codec for a static payload type.
func staticCodec(pt uint8) (Codec, bool) {
	switch pt {
	case PayloadPCMU:
		return Codec{PT: pt, Name: "PCMU", Rate: 8000, Channels: 1}, true
	case PayloadPCMA:
		return Codec{PT: pt, Name: "PCMA", Rate: 8000, Channels: 1}, true
	}
	return Codec{}, false
}

// Parse parses an SDP body. It accepts both CRLF and LF line ends and
// ignores attributes it does not know.
func Parse(b []byte) (*Session, error) {
	if len(b) > maxSize {
		return nil, fmt.Errorf("sdp: body of %d bytes exceeds %d", len(b), maxSize)
	}
	s := &Session{}
	var cur *Media
	sawV, sawO := false, false
	for n, raw := range bytes.Split(b, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		if line == "" {
			continue
		}
		if len(line) < 2 || line[1] != '=' {
			return nil, fmt.Errorf("sdp: line %d %q: want <type>=<value>", n+1, line)
		}
		typ, val := line[0], line[2:]
		switch typ {
		case 'v':
			if val != "0" {
				return nil, fmt.Errorf("sdp: unsupported version %q", val)
			}
			sawV = true
		case 'o':
			f := strings.Fields(val)
			if len(f) != 6 {
				return nil, fmt.Errorf("sdp: line %d: o= needs 6 fields, got %d", n+1, len(f))
			}
			s.Username = f[0]
			s.SessionID, _ = strconv.ParseUint(f[1], 10, 64)
			s.Version, _ = strconv.ParseUint(f[2], 10, 64)
			s.Origin = f[5]
			sawO = true
		case 's':
			s.Name = val
		case 'c':
			addr, err := parseConn(val)
			if err != nil {
				return nil, fmt.Errorf("sdp: line %d: %w", n+1, err)
			}
			if cur != nil {
				cur.Conn = addr
			} else {
				s.Conn = addr
			}
		case 'm':
			m, err := parseMedia(val)
			if err != nil {
				return nil, fmt.Errorf("sdp: line %d: %w", n+1, err)
			}
			s.Media = append(s.Media, m)
			cur = &s.Media[len(s.Media)-1]
		case 'a':
			if cur != nil {
				if err := cur.parseAttr(val); err != nil {
					return nil, fmt.Errorf("sdp: line %d: %w", n+1, err)
				}
			}
		}
	}
	if !sawV || !sawO {
		return nil, errors.New("sdp: missing v= or o= line")
	}
	for i := range s.Media {
		m := &s.Media[i]
		// Static payload types need no rtpmap; keep Codecs in m= order.
		ordered := make([]Codec, 0, len(m.Formats))
		for _, pt := range m.Formats {
			if c, ok := m.Codec(pt); ok {
				ordered = append(ordered, c)
			} else if c, ok := staticCodec(pt); ok {
				ordered = append(ordered, c)
			}
		}
		m.Codecs = ordered
	}
	return s, nil
}

func parseConn(val string) (string, error) {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6") {
		return "", fmt.Errorf("c= %q: want \"IN IP4 <address>\"", val)
	}
	addr, _, _ := strings.Cut(f[2], "/") // drop multicast TTL
	return addr, nil
}

func parseMedia(val string) (Media, error) {
	f := strings.Fields(val)
	if len(f) < 3 {
		return Media{}, fmt.Errorf("m= %q: want <media> <port> <proto> <fmt>...", val)
	}
	portStr, _, _ := strings.Cut(f[1], "/")
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return Media{}, fmt.Errorf("m= port %q is not a port number", f[1])
	}
	m := Media{Type: f[0], Port: port, Proto: f[2]}
	if strings.Contains(m.Proto, "RTP") {
		for _, p := range f[3:] {
			pt, err := strconv.ParseUint(p, 10, 8)
			if err != nil || pt > 127 {
				return Media{}, fmt.Errorf("m= payload type %q is not 0-127", p)
			}
			m.Formats = append(m.Formats, uint8(pt))
		}
	}
	return m, nil
}

func (m *Media) parseAttr(val string) error {
	name, rest, _ := strings.Cut(val, ":")
	switch name {
	case "rtpmap":
		ptStr, enc, ok := strings.Cut(rest, " ")
		if !ok {
			return fmt.Errorf("a=rtpmap %q: want <pt> <name>/<rate>", rest)
		}
		pt, err := strconv.ParseUint(ptStr, 10, 8)
		if err != nil || pt > 127 {
			return fmt.Errorf("a=rtpmap payload type %q is not 0-127", ptStr)
		}
		parts := strings.Split(strings.TrimSpace(enc), "/")
		if len(parts) < 2 {
			return fmt.Errorf("a=rtpmap %q: want <name>/<rate>", rest)
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil || rate <= 0 {
			return fmt.Errorf("a=rtpmap clock rate %q is not a positive number", parts[1])
		}
		c := Codec{PT: uint8(pt), Name: parts[0], Rate: rate}
		if len(parts) > 2 {
			c.Channels, _ = strconv.Atoi(parts[2])
		}
		for i := range m.Codecs {
			if m.Codecs[i].PT == c.PT {
				c.Fmtp = m.Codecs[i].Fmtp
				m.Codecs[i] = c
				return nil
			}
		}
		m.Codecs = append(m.Codecs, c)
	case "fmtp":
		ptStr, params, _ := strings.Cut(rest, " ")
		pt, err := strconv.ParseUint(ptStr, 10, 8)
		if err != nil || pt > 127 {
			return nil // fmtp for a non-RTP format: not ours to judge
		}
		for i := range m.Codecs {
			if m.Codecs[i].PT == uint8(pt) {
				m.Codecs[i].Fmtp = params
				return nil
			}
		}
		c, _ := staticCodec(uint8(pt))
		c.PT, c.Fmtp = uint8(pt), params
		m.Codecs = append(m.Codecs, c)
	case "ptime":
		p, err := strconv.Atoi(strings.TrimSpace(rest))
		if err == nil && p > 0 && p <= 1000 {
			m.Ptime = p
		}
	case "rtcp":
		portStr, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
		p, err := strconv.Atoi(portStr)
		if err == nil && p > 0 && p <= 65535 {
			m.RTCPPort = p
		}
	case "sendrecv", "sendonly", "recvonly", "inactive":
		m.Direction = name
	default:
		m.Other = append(m.Other, val)
	}
	return nil
}

// Marshal writes s as an SDP body with CRLF line ends.
func (s *Session) Marshal() []byte {
	var b strings.Builder
	ipver := func(a string) string {
		if ip := net.ParseIP(a); ip != nil && ip.To4() == nil {
			return "IP6"
		}
		return "IP4"
	}
	user := s.Username
	if user == "" {
		user = "-"
	}
	name := s.Name
	if name == "" {
		name = "-"
	}
	fmt.Fprintf(&b, "v=0\r\no=%s %d %d IN %s %s\r\ns=%s\r\n", user, s.SessionID, s.Version, ipver(s.Origin), s.Origin, name)
	if s.Conn != "" {
		fmt.Fprintf(&b, "c=IN %s %s\r\n", ipver(s.Conn), s.Conn)
	}
	b.WriteString("t=0 0\r\n")
	for _, m := range s.Media {
		fmt.Fprintf(&b, "m=%s %d %s", m.Type, m.Port, m.Proto)
		for _, pt := range m.Formats {
			fmt.Fprintf(&b, " %d", pt)
		}
		b.WriteString("\r\n")
		if m.Conn != "" {
			fmt.Fprintf(&b, "c=IN %s %s\r\n", ipver(m.Conn), m.Conn)
		}
		for _, pt := range m.Formats {
			c, ok := m.Codec(pt)
			if !ok {
				continue
			}
			if c.Channels > 1 {
				fmt.Fprintf(&b, "a=rtpmap:%d %s/%d/%d\r\n", c.PT, c.Name, c.Rate, c.Channels)
			} else {
				fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.PT, c.Name, c.Rate)
			}
			if c.Fmtp != "" {
				fmt.Fprintf(&b, "a=fmtp:%d %s\r\n", c.PT, c.Fmtp)
			}
		}
		if m.Ptime > 0 {
			fmt.Fprintf(&b, "a=ptime:%d\r\n", m.Ptime)
		}
		if m.Direction != "" {
			fmt.Fprintf(&b, "a=%s\r\n", m.Direction)
		}
	}
	return []byte(b.String())
}

// Package gateway implements the MSN Messenger HTTP gateway protocol, which
// carries MSNP notification (NS) and switchboard (SB) sessions over plain
// HTTP requests so that a device behind an HTTP proxy can sign in.
//
// The client POSTs to /gateway/gateway.dll: first
// ?Action=open&Server=NS|SB&IP=<server> with the first command as the body,
// then ?SessionID=<id> with more commands, or ?Action=poll&SessionID=<id>
// with an empty body about every 2 s to collect what the server queued. Only
// one request is outstanding at a time. Every response carries
//
//	X-MSN-Messenger: SessionID=<id>; GW-IP=<gateway address>[; Session=close]
//	Content-Type: application/x-msn-messenger
//
// and the client uses the latest SessionID and GW-IP for its next request.
//
// Conn (made by Dialer) is the client half: a net.Conn whose Write queues
// commands and whose Read returns the bytes of the responses. Server is the
// other half: an http.Handler that bridges each session to a TCP connection
// to the real NS or SB.
package gateway

import (
	"errors"
	"fmt"
	"strings"
)

// Names used on the wire.
const (
	HeaderName  = "X-MSN-Messenger"
	ContentType = "application/x-msn-messenger"
	// Path is where the gateway is served.
	Path = "/gateway/gateway.dll"
)

// Header is a parsed X-MSN-Messenger header.
type Header struct {
	SessionID string
	GatewayIP string // host or host:port for the next request, may be empty
	Closed    bool   // Session=close: the server ended the session
}

// String formats h as the header value.
func (h Header) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "SessionID=%s; GW-IP=%s", h.SessionID, h.GatewayIP)
	if h.Closed {
		b.WriteString("; Session=close")
	}
	return b.String()
}

// ErrHeader is wrapped by ParseHeader failures.
var ErrHeader = errors.New("malformed " + HeaderName + " header")

// ParseHeader parses an X-MSN-Messenger header value. Unknown parameters
// are ignored; SessionID is required unless the session is closed, and
// values are limited to characters that can be used in a URL as they are.
func ParseHeader(v string) (Header, error) {
	var h Header
	if len(v) > 1024 {
		return h, fmt.Errorf("gateway: %w: longer than 1024 bytes", ErrHeader)
	}
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return h, fmt.Errorf("gateway: %w: parameter %q has no value", ErrHeader, part)
		}
		k, val = strings.TrimSpace(k), strings.TrimSpace(val)
		switch strings.ToLower(k) {
		case "sessionid":
			if !validID(val) {
				return h, fmt.Errorf("gateway: %w: bad SessionID %q", ErrHeader, val)
			}
			h.SessionID = val
		case "gw-ip":
			if val != "" && !validHost(val) {
				return h, fmt.Errorf("gateway: %w: bad GW-IP %q", ErrHeader, val)
			}
			h.GatewayIP = val
		case "session":
			h.Closed = strings.EqualFold(val, "close")
		}
	}
	if h.SessionID == "" && !h.Closed {
		return h, fmt.Errorf("gateway: %w: no SessionID in %q", ErrHeader, v)
	}
	return h, nil
}

func validID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validHost accepts a host name, IPv4 address or [IPv6], with an optional port.
func validHost(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

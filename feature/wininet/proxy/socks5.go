package proxy

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
)

// SOCKS5 constants (RFC 1928 section 3-6, RFC 1929 section 2).
const (
	socks5Version   = 0x05
	methodNone      = 0x00
	methodUserPass  = 0x02
	methodNoAccept  = 0xff
	userPassVersion = 0x01
	cmdConnect      = 0x01
	atypIPv4        = 0x01
	atypDomain      = 0x03
	atypIPv6        = 0x04
)

// socks5ReplyText names the RFC 1928 section 6 reply codes.
var socks5ReplyText = map[byte]string{
	0x01: "general SOCKS server failure",
	0x02: "connection not allowed by ruleset",
	0x03: "network unreachable",
	0x04: "host unreachable",
	0x05: "connection refused",
	0x06: "TTL expired",
	0x07: "command not supported",
	0x08: "address type not supported",
}

// ReplyError is a SOCKS or HTTP CONNECT failure code from the proxy.
type ReplyError struct {
	Code int
	Text string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("reply %d (%s)", e.Code, e.Text) }

func (d *Dialer) socks5(conn net.Conn, host string, port int, addr string) error {
	methods := []byte{methodNone}
	if d.User != "" {
		methods = []byte{methodUserPass, methodNone}
	}
	greeting := append([]byte{socks5Version, byte(len(methods))}, methods...)
	if _, err := conn.Write(greeting); err != nil {
		return d.ioFail(addr, "greeting", err)
	}
	var mr [2]byte
	if _, err := io.ReadFull(conn, mr[:]); err != nil {
		return d.ioFail(addr, "greeting", err)
	}
	method, err := parseSOCKS5Method(mr[:])
	if err != nil {
		return d.fail(addr, "greeting", ErrProtocol, err, "")
	}
	switch method {
	case methodNone:
	case methodUserPass:
		if d.User == "" {
			return d.fail(addr, "auth", ErrAuth, errors.New("proxy requires a user name and password"), "set the proxy user name and password under Options > Connection")
		}
		if err := d.socks5Auth(conn, addr); err != nil {
			return err
		}
	case methodNoAccept:
		hint := "the proxy accepts none of the offered methods"
		if d.User == "" {
			hint = "the proxy probably requires a user name and password; set them under Options > Connection"
		}
		return d.fail(addr, "auth", ErrAuth, errors.New("no acceptable authentication method"), hint)
	default:
		return d.fail(addr, "greeting", ErrProtocol, fmt.Errorf("proxy chose method %#x that was not offered", method), "")
	}

	req := []byte{socks5Version, cmdConnect, 0x00}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if ip.Is4() {
			req = append(req, atypIPv4)
		} else {
			req = append(req, atypIPv6)
		}
		req = append(req, ip.AsSlice()...)
	} else {
		if len(host) > 255 {
			return d.fail(addr, "request", ErrProtocol, errors.New("host name longer than 255 bytes"), "")
		}
		req = append(req, atypDomain, byte(len(host)))
		req = append(req, host...)
	}
	req = append(req, byte(port>>8), byte(port))
	if _, err := conn.Write(req); err != nil {
		return d.ioFail(addr, "request", err)
	}
	code, _, err := readSOCKS5Reply(conn)
	if err != nil {
		return d.fail(addr, "reply", ErrProtocol, err, "")
	}
	if code != 0 {
		return d.socks5Fail(addr, code)
	}
	return nil
}

func (d *Dialer) socks5Fail(addr string, code byte) error {
	text, ok := socks5ReplyText[code]
	if !ok {
		text = "unassigned"
	}
	re := &ReplyError{Code: int(code), Text: text}
	switch code {
	case 0x02:
		return d.fail(addr, "request", ErrNotAllowed, re, "ask the proxy administrator to allow this server and port")
	case 0x03, 0x04, 0x05, 0x06:
		return d.fail(addr, "request", ErrDestination, re, "the proxy is working, but the server behind it is down or unreachable from the proxy")
	default:
		return d.fail(addr, "request", ErrDestination, re, "")
	}
}

func (d *Dialer) socks5Auth(conn net.Conn, addr string) error {
	b := []byte{userPassVersion, byte(len(d.User))}
	b = append(b, d.User...)
	b = append(b, byte(len(d.Password)))
	b = append(b, d.Password...)
	if _, err := conn.Write(b); err != nil {
		return d.ioFail(addr, "auth", err)
	}
	var r [2]byte
	if _, err := io.ReadFull(conn, r[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			// Some proxies (dante among them) hang up instead of answering.
			return d.fail(addr, "auth", ErrAuth, fmt.Errorf("proxy closed the connection after user %q authenticated", d.User), "check the proxy user name and password under Options > Connection")
		}
		return d.ioFail(addr, "auth", err)
	}
	ok, err := parseSOCKS5AuthReply(r[:])
	if err != nil {
		return d.fail(addr, "auth", ErrProtocol, err, "")
	}
	if !ok {
		return d.fail(addr, "auth", ErrAuth, fmt.Errorf("wrong user name or password for %q", d.User), "check the proxy user name and password under Options > Connection")
	}
	return nil
}

// parseSOCKS5Method parses the server's method selection message.
func parseSOCKS5Method(b []byte) (byte, error) {
	if len(b) != 2 {
		return 0, fmt.Errorf("method reply is %d bytes, want 2", len(b))
	}
	if b[0] != socks5Version {
		return 0, fmt.Errorf("method reply version %#x, want 5 (is this a SOCKS5 proxy?)", b[0])
	}
	return b[1], nil
}

// parseSOCKS5AuthReply parses the RFC 1929 status reply; true means success.
func parseSOCKS5AuthReply(b []byte) (bool, error) {
	if len(b) != 2 {
		return false, fmt.Errorf("auth reply is %d bytes, want 2", len(b))
	}
	// RFC 1929 says version 1; some servers echo 5. Accept both.
	if b[0] != userPassVersion && b[0] != socks5Version {
		return false, fmt.Errorf("auth reply version %#x, want 1", b[0])
	}
	return b[1] == 0, nil
}

// readSOCKS5Reply reads a complete RFC 1928 section 6 reply and returns the
// reply code and the bound address.
func readSOCKS5Reply(r io.Reader) (byte, string, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, "", fmt.Errorf("read reply: %w", err)
	}
	if h[0] != socks5Version {
		return 0, "", fmt.Errorf("reply version %#x, want 5", h[0])
	}
	if h[1] != 0 {
		// A failure reply; the connection is closed next, the address is moot.
		return h[1], "", nil
	}
	var host string
	switch h[3] {
	case atypIPv4, atypIPv6:
		n := 4
		if h[3] == atypIPv6 {
			n = 16
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return 0, "", fmt.Errorf("read reply address: %w", err)
		}
		a, _ := netip.AddrFromSlice(b)
		host = a.String()
	case atypDomain:
		var l [1]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return 0, "", fmt.Errorf("read reply address: %w", err)
		}
		b := make([]byte, l[0])
		if _, err := io.ReadFull(r, b); err != nil {
			return 0, "", fmt.Errorf("read reply address: %w", err)
		}
		host = string(b)
		for _, c := range b {
			if c <= ' ' || c > '~' || c == '[' || c == ']' || c == '/' {
				return 0, "", fmt.Errorf("reply host name %q malformed", host)
			}
		}
	default:
		return 0, "", fmt.Errorf("reply address type %#x unknown", h[3])
	}
	var p [2]byte
	if _, err := io.ReadFull(r, p[:]); err != nil {
		return 0, "", fmt.Errorf("read reply port: %w", err)
	}
	return h[1], net.JoinHostPort(host, fmt.Sprint(int(p[0])<<8|int(p[1]))), nil
}

package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
)

// SOCKS4 reply codes (SOCKS4 protocol, section "CONNECT"; 4A extension).
const (
	socks4Granted      = 90
	socks4Rejected     = 91
	socks4NoIdentd     = 92
	socks4IdentMissmat = 93
)

func (d *Dialer) socks4(ctx context.Context, conn net.Conn, host string, port int, addr string) error {
	req := []byte{0x04, cmdConnect, byte(port >> 8), byte(port)}
	var name string
	ip, err := netip.ParseAddr(host)
	switch {
	case err == nil:
		ip = ip.Unmap()
		if !ip.Is4() {
			return d.fail(addr, "request", ErrProtocol, errors.New("SOCKS4 carries IPv4 addresses only"), "use a socks5:// proxy for IPv6 destinations")
		}
	case d.Kind == SOCKS4A:
		// 4a: 0.0.0.x (x != 0) tells the proxy to resolve the name after the user id.
		ip = netip.AddrFrom4([4]byte{0, 0, 0, 1})
		name = host
	default:
		lookup := d.LookupIP
		if lookup == nil {
			lookup = net.DefaultResolver.LookupIP
		}
		ips, err := lookup(ctx, "ip4", host)
		if err != nil {
			return d.fail(addr, "resolve", ErrDestination, err, "SOCKS4 resolves names on the device; check DNS, or use socks4a:// to let the proxy resolve")
		}
		if len(ips) == 0 {
			return d.fail(addr, "resolve", ErrDestination, fmt.Errorf("no IPv4 address for %q", host), "use socks4a:// or socks5:// to let the proxy resolve")
		}
		ip, _ = netip.AddrFromSlice(ips[0].To4())
	}
	a4 := ip.As4()
	req = append(req, a4[:]...)
	req = append(req, d.User...)
	req = append(req, 0)
	if name != "" {
		req = append(req, name...)
		req = append(req, 0)
	}
	if _, err := conn.Write(req); err != nil {
		return d.ioFail(addr, "request", err)
	}
	var r [8]byte
	if _, err := io.ReadFull(conn, r[:]); err != nil {
		return d.ioFail(addr, "reply", err)
	}
	code, err := parseSOCKS4Reply(r[:])
	if err != nil {
		return d.fail(addr, "reply", ErrProtocol, err, "")
	}
	switch code {
	case socks4Granted:
		return nil
	case socks4Rejected:
		// SOCKS4 cannot tell "rules forbid it" from "destination down": both apply.
		e := d.fail(addr, "request", ErrNotAllowed, &ReplyError{Code: int(code), Text: "request rejected or failed"},
			"the proxy's rules refuse this destination, or the server behind the proxy is down")
		e.also = ErrDestination
		return e
	case socks4NoIdentd, socks4IdentMissmat:
		return d.fail(addr, "request", ErrAuth, &ReplyError{Code: int(code), Text: "identd check failed"}, "the proxy checks the user id with identd; set the proxy user name under Options > Connection")
	default:
		return d.fail(addr, "reply", ErrProtocol, &ReplyError{Code: int(code), Text: "unknown"}, "")
	}
}

// parseSOCKS4Reply checks an 8-byte SOCKS4 reply and returns its code.
func parseSOCKS4Reply(b []byte) (byte, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("reply is %d bytes, want 8", len(b))
	}
	if b[0] != 0 {
		return 0, fmt.Errorf("reply version %#x, want 0 (is this a SOCKS4 proxy?)", b[0])
	}
	if b[1] < socks4Granted || b[1] > socks4IdentMissmat {
		return 0, fmt.Errorf("reply code %d unknown", b[1])
	}
	return b[1], nil
}

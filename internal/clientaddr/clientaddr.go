// Package clientaddr names the address a network service counts a client
// under for its per-address limits: the IPv4 address, or the /64 of an IPv6
// address (one host or home network usually holds a whole /64).
package clientaddr

import (
	"net"
	"net/netip"
)

// Key is the counting key of remote, a "host:port" (or a bare host). A host
// that is not an IP address is its own key.
func Key(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	return key(a)
}

// Of is the counting key of a connection's remote address.
func Of(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return key(ip)
		}
	}
	return Key(a.String())
}

func key(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

package wininet

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// DefaultResolvConf is where the DHCP client writes the lease's DNS servers.
const DefaultResolvConf = "/etc/resolv.conf"

// Resolver looks names up with the DNS servers of the DHCP lease, one
// server after the other, and reports which server failed.
type Resolver struct {
	// Servers are host:port DNS servers; when empty they are read from
	// ConfPath (nameserver lines, port 53) at each lookup.
	Servers []string
	// ConfPath is the resolv.conf to read; DefaultResolvConf when empty.
	ConfPath string
	// Timeout bounds the lookup at one server; 5 s when zero.
	Timeout time.Duration
}

// DNSError is a failed lookup.
type DNSError struct {
	Name    string
	Servers []string // servers asked, in order
	Err     error    // the last server's error (a *net.DNSError) or a config error
}

func (e *DNSError) Error() string {
	via := "no DNS server"
	if len(e.Servers) > 0 {
		via = strings.Join(e.Servers, ", ")
	}
	hint := "check the name, and the DNS server the DHCP lease gave (" + DefaultResolvConf + ")"
	var nde *net.DNSError
	if errors.As(e.Err, &nde) {
		switch {
		case nde.IsNotFound:
			hint = "no such name: check the server name under Options > Connection"
		case nde.IsTimeout:
			hint = "the DNS server did not answer: check the network and the DHCP lease's DNS server"
		}
		return fmt.Sprintf("dns: look up %q via %s: %s (%s)", e.Name, via, nde.Err, hint)
	}
	return fmt.Sprintf("dns: look up %q via %s: %v (%s)", e.Name, via, e.Err, hint)
}

func (e *DNSError) Unwrap() error { return e.Err }

// ParseResolvConf returns the nameserver addresses (host:53) in a resolv.conf.
func ParseResolvConf(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		host, _, _ := strings.Cut(f[1], "%") // drop an IPv6 zone
		if a, err := netip.ParseAddr(host); err == nil {
			out = append(out, netip.AddrPortFrom(a, 53).String())
		}
	}
	return out
}

func (r *Resolver) servers() ([]string, error) {
	if len(r.Servers) > 0 {
		return r.Servers, nil
	}
	p := r.ConfPath
	if p == "" {
		p = DefaultResolvConf
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read DNS servers: %w (is the network up? the DHCP client writes it)", err)
	}
	s := ParseResolvConf(b)
	if len(s) == 0 {
		return nil, fmt.Errorf("no nameserver line in %s (the DHCP lease gave no DNS server)", p)
	}
	return s, nil
}

// LookupHost returns the addresses of host. IP literals are returned as
// they are; /etc/hosts is consulted before DNS.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	servers, err := r.servers()
	if err != nil {
		if addrs, herr := lookupHostsFile(ctx, host); herr == nil {
			return addrs, nil
		}
		return nil, &DNSError{Name: host, Err: err}
	}
	to := r.Timeout
	if to <= 0 {
		to = 5 * time.Second
	}
	var asked []string
	var last error
	for _, srv := range servers {
		asked = append(asked, srv)
		res := &net.Resolver{
			PreferGo:     true,
			StrictErrors: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, srv)
			},
		}
		sctx, cancel := context.WithTimeout(ctx, to)
		addrs, err := res.LookupNetIP(sctx, "ip", host)
		cancel()
		if err == nil && len(addrs) > 0 {
			for i, a := range addrs {
				addrs[i] = a.Unmap()
			}
			return addrs, nil
		}
		if err == nil {
			err = &net.DNSError{Err: "no addresses", Name: host, Server: srv, IsNotFound: true}
		}
		last = err
		var nde *net.DNSError
		if errors.As(err, &nde) {
			nde.Server = srv
			if nde.IsNotFound {
				break // an authoritative "no such name" is the answer
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, &DNSError{Name: host, Servers: asked, Err: last}
}

// lookupHostsFile resolves from /etc/hosts only.
func lookupHostsFile(ctx context.Context, host string) ([]netip.Addr, error) {
	res := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS server")
	}}
	return res.LookupNetIP(ctx, "ip", host)
}

package wininet_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/feature/wininet"
)

// startDNS runs a small authoritative DNS server on UDP loopback: A queries
// for names in zone are answered, AAAA queries get an empty answer, other
// names get NXDOMAIN. It returns its address.
func startDNS(t *testing.T, zone map[string]netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := dnsAnswer(buf[:n], zone); resp != nil {
				pc.WriteTo(resp, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func dnsAnswer(q []byte, zone map[string]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	// Question name.
	i := 12
	var labels []string
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	qEnd := i + 5
	name := strings.ToLower(strings.Join(labels, "."))
	resp := append([]byte{}, q[:qEnd]...)
	resp[2] = 0x84 | (q[2] & 0x01) // QR, AA, RD copied
	resp[3] = 0x80                 // RA
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	addr, ok := zone[name]
	if !ok {
		resp[3] |= 3 // NXDOMAIN
		return resp
	}
	if qtype == 1 && addr.Is4() {
		binary.BigEndian.PutUint16(resp[6:], 1)
		a := addr.As4()
		resp = append(resp, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, a[:]...)
	}
	return resp
}

func TestResolver(t *testing.T) {
	dns := startDNS(t, map[string]netip.Addr{"ns.lab": netip.MustParseAddr("127.0.0.1")})
	// A UDP port with nobody behind it: the kernel answers "refused".
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	dead := pc.LocalAddr().String()
	pc.Close()

	tests := []struct {
		name    string
		servers []string
		host    string
		want    []netip.Addr
		errText []string
	}{
		{"found", []string{dns}, "ns.lab", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil},
		{"literal", nil, "10.0.2.2", []netip.Addr{netip.MustParseAddr("10.0.2.2")}, nil},
		{"second server answers", []string{dead, dns}, "ns.lab", []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil},
		{"no such name", []string{dns}, "nope.lab", nil, []string{`"nope.lab"`, dns, "no such host"}},
		{"dead server", []string{dead}, "ns.lab", nil, []string{`"ns.lab"`, dead}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &wininet.Resolver{Servers: tc.servers, Timeout: 10 * time.Second}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := r.LookupHost(ctx, tc.host)
			if tc.errText == nil {
				if err != nil {
					t.Fatalf("LookupHost(%q) = %v", tc.host, err)
				}
				if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
					t.Errorf("LookupHost(%q) mismatch (-want +got):\n%s", tc.host, diff)
				}
				return
			}
			var de *wininet.DNSError
			if !errors.As(err, &de) {
				t.Fatalf("LookupHost(%q) = %v, want *DNSError", tc.host, err)
			}
			for _, s := range tc.errText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("LookupHost(%q) = %q, want it to contain %q", tc.host, err, s)
				}
			}
		})
	}
}

func TestResolverConf(t *testing.T) {
	dir := t.TempDir()
	r := &wininet.Resolver{ConfPath: dir + "/resolv.conf"}
	_, err := r.LookupHost(context.Background(), "ns.lab")
	if err == nil || !strings.Contains(err.Error(), "resolv.conf") {
		t.Errorf("LookupHost without resolv.conf = %v, want an error naming resolv.conf", err)
	}
	// localhost comes from /etc/hosts even without a DNS server.
	if got, err := r.LookupHost(context.Background(), "localhost"); err != nil || len(got) == 0 {
		t.Errorf("LookupHost(localhost) without resolv.conf = %v, %v; want /etc/hosts addresses", got, err)
	}
}

func TestParseResolvConf(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"nameserver 10.0.2.3\n", []string{"10.0.2.3:53"}},
		{"# lease\nsearch lan\nnameserver 192.168.1.1\nnameserver fe80::1%eth0\noptions ndots:1\n", []string{"192.168.1.1:53", "[fe80::1]:53"}},
		{"nameserver\nnameserver bogus\n", nil},
		{"", nil},
	}
	for _, tc := range tests {
		got := wininet.ParseResolvConf([]byte(tc.in))
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseResolvConf(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func FuzzParseResolvConf(f *testing.F) {
	f.Add([]byte("nameserver 10.0.2.3\nsearch lan\n"))
	f.Add([]byte("nameserver ::1%lo\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range wininet.ParseResolvConf(b) {
			if _, err := netip.ParseAddrPort(s); err != nil {
				t.Errorf("ParseResolvConf(%q) gave %q: %v", b, s, err)
			}
		}
	})
}

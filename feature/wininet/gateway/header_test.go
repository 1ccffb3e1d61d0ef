package gateway

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		in      string
		want    Header
		wantErr bool
	}{
		// From a 2003 capture of the MSN gateway (hypothetic.org HTTP examples).
		{"SessionID=954547325.13160; GW-IP=207.46.110.18", Header{SessionID: "954547325.13160", GatewayIP: "207.46.110.18"}, false},
		{"SessionID=954547325.32498; GW-IP=207.46.110.18; Session=close", Header{SessionID: "954547325.32498", GatewayIP: "207.46.110.18", Closed: true}, false},
		{"Session=close", Header{Closed: true}, false},
		{"sessionid=1.2;gw-ip=127.0.0.1:8080;", Header{SessionID: "1.2", GatewayIP: "127.0.0.1:8080"}, false},
		{"SessionID=1.2; GW-IP=[::1]:80; Foo=bar", Header{SessionID: "1.2", GatewayIP: "[::1]:80"}, false},
		{"SessionID=1.2; Session=active", Header{SessionID: "1.2"}, false},
		{"", Header{}, true},
		{"GW-IP=1.2.3.4", Header{}, true},
		{"SessionID", Header{}, true},
		{"SessionID=a b", Header{}, true},
		{"SessionID=1; GW-IP=evil/path?x", Header{}, true},
		{"SessionID=1; GW-IP=user@host", Header{}, true},
	}
	for _, tc := range tests {
		got, err := ParseHeader(tc.in)
		if tc.wantErr {
			if err == nil || !errors.Is(err, ErrHeader) {
				t.Errorf("ParseHeader(%q) = %+v, %v; want ErrHeader", tc.in, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseHeader(%q) = %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseHeader(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestNextHost(t *testing.T) {
	base, _ := url.Parse("http://gateway.lab:8080/gateway/gateway.dll")
	tests := []struct{ gw, want string }{
		{"", ""},
		{"207.46.110.18", "207.46.110.18:8080"},
		{"10.0.2.2:9000", "10.0.2.2:9000"},
		{"::1", "[::1]:8080"},
		{"[::1]:81", "[::1]:81"},
		{"gw.lab", "gw.lab:8080"},
	}
	for _, tc := range tests {
		got, err := nextHost(base, tc.gw)
		if err != nil || got != tc.want {
			t.Errorf("nextHost(%q) = %q, %v; want %q", tc.gw, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a_b", "1.2.3.4:0", "1.2.3.4:x"} {
		if got, err := nextHost(base, bad); err == nil {
			t.Errorf("nextHost(%q) = %q, nil; want an error", bad, got)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add("SessionID=954547325.13160; GW-IP=207.46.110.18")
	f.Add("SessionID=954547325.32498; GW-IP=207.46.110.18; Session=close")
	f.Add("Session=close")
	f.Add("SessionID=1.2; GW-IP=[::1]:80")
	f.Add(";;=;")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHeader(s)
		if err != nil {
			return
		}
		// What parses must format and parse back the same.
		h2, err := ParseHeader(h.String())
		if h.SessionID == "" {
			return // Session=close alone formats an empty SessionID
		}
		if err != nil {
			t.Fatalf("ParseHeader(%q) = %+v, but its String() %q does not parse: %v", s, h, h.String(), err)
		}
		if h != h2 {
			t.Fatalf("round trip of %q: %+v != %+v", s, h, h2)
		}
		// GW-IP must never smuggle a path, user info or query into a URL.
		u := url.URL{Scheme: "http", Host: "gw.lab"}
		if host, err := nextHost(&u, h.GatewayIP); err == nil && host != "" {
			u.Host = host
			p, err := url.Parse(u.String() + "/gateway/gateway.dll")
			if err != nil || p.Host != host || p.User != nil || p.Path != "/gateway/gateway.dll" {
				t.Fatalf("GW-IP %q gives URL %v (%v)", h.GatewayIP, p, err)
			}
		}
	})
}

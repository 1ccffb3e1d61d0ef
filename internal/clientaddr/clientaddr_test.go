package clientaddr

import (
	"net"
	"testing"
)

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1:5":               "192.0.2.1",
		"192.0.2.1":                 "192.0.2.1",
		"[::ffff:192.0.2.1]:80":     "192.0.2.1",
		"[2001:db8:1:2:3::4]:80":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:80": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:80":         "fe80::/64",
		"lab.example:1863":          "lab.example",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Of(&net.TCPAddr{IP: net.ParseIP("2001:db8::9"), Port: 1}); got != "2001:db8::/64" {
		t.Errorf("Of(2001:db8::9) = %q", got)
	}
	if got := Of(&net.TCPAddr{IP: net.IPv4(10, 0, 2, 15), Port: 1}); got != "10.0.2.15" {
		t.Errorf("Of(10.0.2.15) = %q", got)
	}
}

func FuzzKey(f *testing.F) {
	f.Add("[2001:db8::1]:80")
	f.Add("1.2.3.4:5")
	f.Fuzz(func(t *testing.T, s string) { _ = Key(s) })
}

package voice

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestByeReason(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "remote hang-up"},
		{`SIP;cause=480;text="the other party's connection to the server ended"`, "remote hang-up: the other party's connection to the server ended"},
		{`SIP;cause=200;text=done;x=y`, "remote hang-up: done"},
		{`SIP;text="unterminated`, "remote hang-up: unterminated"},
		{"SIP;text=\"a\r\nb\"", "remote hang-up: ab"},
	} {
		if got := byeReason(tt.in); got != tt.want {
			t.Errorf("byeReason(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzByeReason: a peer's Reason header gives a bounded, printable reason.
func FuzzByeReason(f *testing.F) {
	f.Add(`SIP;cause=480;text="gone"`)
	f.Add(`text=`)
	f.Add(`text="` + strings.Repeat("x", 500))
	f.Fuzz(func(t *testing.T, v string) {
		r := byeReason(v)
		if !strings.HasPrefix(r, "remote hang-up") || len(r) > len("remote hang-up: ")+120 {
			t.Fatalf("byeReason(%q) = %q", v, r)
		}
		for _, c := range r {
			if c < ' ' && utf8.ValidString(v) {
				t.Fatalf("control character in %q", r)
			}
		}
	})
}

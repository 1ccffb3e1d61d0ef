package msnftp

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("n", 10000)
	tests := []struct {
		in, want string
	}{
		{"readme.txt", "readme.txt"},
		{"holiday photo (2).jpg", "holiday photo (2).jpg"},
		{"../../etc/passwd", "passwd"},
		{"/abs/path", "path"},
		{`C:\x\y`, "y"},
		{`..\..\boot.ini`, "boot.ini"},
		{"C:evil.txt", "C_evil.txt"},
		{"a\x00b.txt", "a_b.txt"},
		{"line\nbreak\r.txt", "line_break_.txt"},
		{"tab\there", "tab_here"},
		{"..", DefaultName},
		{".", DefaultName},
		{"", DefaultName},
		{"dir/", DefaultName},
		{"  ...  ", DefaultName},
		{".bashrc", "bashrc"},
		{"name. . ", "name"},
		{"\u202egpj.exe", "_gpj.exe"},
		{"bad\xffutf8.txt", "bad_utf8.txt"},
		{`a<b>c:d"e|f?g*h`, "a_b_c_d_e_f_g_h"},
		{"日本語.txt", "日本語.txt"},
		{long + ".txt", long[:MaxNameBytes-4] + ".txt"},
		{long, long[:MaxNameBytes]},
		{strings.Repeat("é", 150) + ".tar.gz", strings.Repeat("é", 98) + ".gz"},
		{"x." + long, "x." + long[:MaxNameBytes-2]},
	}
	for _, tc := range tests {
		if got := SafeName(tc.in); got != tc.want {
			t.Errorf("SafeName(%.40q) = %.60q, want %.60q", tc.in, got, tc.want)
		}
	}
}

func TestNumberedName(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"a.txt", 0, "a.txt"},
		{"a.txt", 1, "a (1).txt"},
		{"archive.tar.gz", 2, "archive.tar (2).gz"},
		{DefaultName, 3, DefaultName + " (3)"},
	}
	for _, tc := range tests {
		if got := numberedName(tc.in, tc.n); got != tc.want {
			t.Errorf("numberedName(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"../../etc/passwd", `C:\x\y`, "a\x00b", "..", "", strings.Repeat("é", 150) + ".txt", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SafeName(in)
		switch {
		case !utf8.ValidString(got):
			t.Fatalf("SafeName(%q) = %q: invalid UTF-8", in, got)
		case got == "" || got == "." || got == "..":
			t.Fatalf("SafeName(%q) = %q", in, got)
		case strings.ContainsAny(got, "/\\\x00:"):
			t.Fatalf("SafeName(%q) = %q: has a separator, NUL or colon", in, got)
		case strings.HasPrefix(got, ".") || strings.HasPrefix(got, " ") || strings.HasSuffix(got, " ") || strings.HasSuffix(got, "."):
			t.Fatalf("SafeName(%q) = %q: leading dot/space or trailing space/dot", in, got)
		case len(got) > MaxNameBytes:
			t.Fatalf("SafeName(%q) = %d bytes, limit %d", in, len(got), MaxNameBytes)
		}
		for _, r := range got {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("SafeName(%q) = %q: control character %U", in, got, r)
			}
		}
		if again := SafeName(got); again != got {
			t.Fatalf("SafeName not idempotent: %q -> %q -> %q", in, got, again)
		}
	})
}

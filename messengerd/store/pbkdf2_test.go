package store

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"strings"
	"testing"
)

func TestPBKDF2SHA256(t *testing.T) {
	for _, c := range []struct {
		pw, salt string
		iter, n  int
	}{
		{"password", "salt", 1, 32},
		{"password", "salt", 2, 32},
		{"password", "salt", 4096, 32},
		{"passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 40},
		{"", "", 3, 16},
		{strings.Repeat("k", 64), "s", 5, 32},
		{strings.Repeat("k", 65), "s", 5, 70},
		{"load-test-pw", "0123456789abcdef", Iterations, 32},
	} {
		want, err := pbkdf2.Key(sha256.New, c.pw, []byte(c.salt), c.iter, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if got := pbkdf2SHA256(c.pw, []byte(c.salt), c.iter, c.n); !bytes.Equal(got, want) {
			t.Errorf("pbkdf2SHA256(%q, %q, %d, %d) = %x, want %x", c.pw, c.salt, c.iter, c.n, got, want)
		}
	}
	// RFC 7914 section 11 vector for PBKDF2-HMAC-SHA256.
	want := "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
	if got := pbkdf2SHA256("passwd", []byte("salt"), 1, 64); hexs(got) != want {
		t.Errorf("RFC 7914 vector = %x, want %s", got, want)
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(digits[c>>4])
		s.WriteByte(digits[c&15])
	}
	return s.String()
}

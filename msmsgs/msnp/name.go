package msnp

import (
	"fmt"
	"unicode/utf8"
)

// MaxEncodedName is the largest URL-encoded friendly name servers accept.
const MaxEncodedName = 387

// EncodeName URL-encodes a friendly name for the wire: bytes other than
// ASCII letters, digits and -_.!~*'()@ become %XX (space becomes %20).
func EncodeName(s string) string {
	const hexd = "0123456789ABCDEF"
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c >= 0x21 && c <= 0x7e && isMark(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexd[c>>4], hexd[c&15])
	}
	return string(b)
}

func isMark(c byte) bool {
	switch c {
	case '-', '_', '.', '!', '~', '*', '\'', '(', ')', '@':
		return true
	}
	return false
}

// DecodeName decodes a URL-encoded friendly name. Invalid escapes and names
// that are not UTF-8 are errors.
func DecodeName(s string) (string, error) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%w: truncated escape in name %q", ErrMalformed, trunc(s))
		}
		h, ok1 := unhex(s[i+1])
		l, ok2 := unhex(s[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("%w: bad escape in name %q", ErrMalformed, trunc(s))
		}
		b = append(b, h<<4|l)
		i += 2
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%w: name is not UTF-8", ErrMalformed)
	}
	return string(b), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case isDigit(c):
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

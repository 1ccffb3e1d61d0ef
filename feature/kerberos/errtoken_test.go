package kerberos

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestErrorTokenRoundTrip: each refusal of the acceptor travels as a
// KRB-ERROR error token and comes back as the same kind of error, with the
// skew measured from the acceptor's time.
func TestErrorTokenRoundTrip(t *testing.T) {
	r, kt := lab(t)
	_ = r
	acc, err := NewAcceptor(kt, "sip/lab.test")
	if err != nil {
		t.Fatal(err)
	}
	acc.Now = func() time.Time { return time.Now().Add(7 * time.Minute) }
	for _, tt := range []struct {
		in   error
		want error
	}{
		{&SkewError{Skew: -7 * time.Minute, Side: "client"}, ErrClockSkew},
		{fmt.Errorf("%w: the ticket of alice@LAB.TEST ended", ErrExpired), ErrExpired},
		{fmt.Errorf("%w: seen before", ErrReplay), ErrReplay},
		{fmt.Errorf("%w: does not decrypt", ErrBadToken), ErrBadToken},
	} {
		tok, err := acc.ErrorToken(tt.in)
		if err != nil {
			t.Fatalf("ErrorToken(%v) = %v", tt.in, err)
		}
		got := ParseErrorToken(tok, "the SIP server", time.Now())
		if !errors.Is(got, tt.want) || !strings.Contains(got.Error(), "the SIP server says: ") {
			t.Errorf("ParseErrorToken(ErrorToken(%v)) = %v, want %v with the server's text", tt.in, got, tt.want)
		}
		var se *SkewError
		if errors.As(got, &se) && (se.Skew < 6*time.Minute+58*time.Second || se.Skew > 7*time.Minute+time.Second) {
			t.Errorf("measured skew %v, want about 7m", se.Skew)
		}
	}
	if err := ParseErrorToken([]byte("junk"), "x", time.Now()); !errors.Is(err, ErrBadToken) {
		t.Errorf("ParseErrorToken(junk) = %v", err)
	}
	if err := ParseErrorToken(make([]byte, MaxTokenSize+1), "x", time.Now()); !errors.Is(err, ErrBadToken) {
		t.Errorf("ParseErrorToken(oversized) = %v", err)
	}
}

func FuzzParseErrorToken(f *testing.F) {
	acc := &Acceptor{Now: time.Now}
	tok, err := acc.ErrorToken(ErrExpired)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add([]byte{0x60, 0x03, 0x06, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := ParseErrorToken(b, "x", time.Now()); err == nil {
			t.Fatal("ParseErrorToken returned no error")
		}
	})
}

package msnp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// Message payloads from the MSNP8 documentation.
var (
	textMsg = crlf(`MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
X-MMS-IM-Format: FN=Arial; EF=I; CO=0; CS=0; PF=22

Hello! How are you?`)
	typingMsg = crlf(`MIME-Version: 1.0
Content-Type: text/x-msmsgscontrol
TypingUser: example@passport.com


`)
	inviteMsg = crlf(`MIME-Version: 1.0
Content-Type: text/x-msmsgsinvite; charset=UTF-8

Application-Name: File Transfer
Application-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}
Invitation-Command: INVITE
Invitation-Cookie: 57924
Application-File: test.txt
Application-FileSize: 1234

`)
)

func TestParseMessage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       string
		ctype    string
		header   string
		value    string
		body     string
		charset  string
		typeUser string
	}{
		{"text", textMsg, TypeText, "x-mms-im-format", "FN=Arial; EF=I; CO=0; CS=0; PF=22", "Hello! How are you?", "UTF-8", ""},
		{"typing", typingMsg, TypeControl, "TYPINGUSER", "example@passport.com", "\r\n", "", "example@passport.com"},
		{"invite", inviteMsg, TypeInvite, "mime-version", "1.0", "", "UTF-8", ""},
		{"profile", profileMsg, TypeProfile, "ClientPort", "18183", "", "UTF-8", ""},
		{"lf only", "MIME-Version: 1.0\nContent-Type: text/plain\n\nhi", TypeText, "MIME-Version", "1.0", "hi", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseMessage error %v", err)
			}
			if got := m.ContentType(); got != tc.ctype {
				t.Errorf("ContentType() = %q, want %q", got, tc.ctype)
			}
			if got := m.Header.Get(tc.header); got != tc.value {
				t.Errorf("Header.Get(%q) = %q, want %q", tc.header, got, tc.value)
			}
			if tc.name != "invite" && string(m.Body) != tc.body {
				t.Errorf("Body = %q, want %q", m.Body, tc.body)
			}
			if got := m.Param("charset"); got != tc.charset {
				t.Errorf("Param(charset) = %q, want %q", got, tc.charset)
			}
			if got := m.TypingUser(); got != tc.typeUser {
				t.Errorf("TypingUser() = %q, want %q", got, tc.typeUser)
			}
			// Round trip (CRLF inputs format back to the same bytes).
			if !strings.Contains(tc.in, "\r\n") {
				return
			}
			b, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.in {
				t.Errorf("Bytes() = %q, want %q", b, tc.in)
			}
		})
	}
}

func TestInviteBody(t *testing.T) {
	m, err := ParseMessage([]byte(inviteMsg))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ParseHeaderBlock(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Application-GUID"); got != "{5D3E02AB-6190-11d3-BBBB-00C04F795683}" {
		t.Errorf("Application-GUID = %q", got)
	}
	m2, err := NewInviteMessage(h)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m2.Bytes()
	if string(b) != inviteMsg {
		t.Errorf("NewInviteMessage = %q, want %q", b, inviteMsg)
	}
}

func TestBuilders(t *testing.T) {
	b, err := NewTypingMessage("example@passport.com").Bytes()
	if err != nil || string(b) != typingMsg {
		t.Errorf("NewTypingMessage = %q, %v, want %q", b, err, typingMsg)
	}
	m := NewTextMessage("héllo")
	b, _ = m.Bytes()
	m2, err := ParseMessage(b)
	if err != nil || string(m2.Body) != "héllo" || m2.ContentType() != TypeText {
		t.Errorf("text round trip = %+v, %v", m2, err)
	}
	var h Header
	h.Set("A", "1")
	h.Set("a", "2")
	if diff := cmp.Diff(Header{{"A", "2"}}, h); diff != "" {
		t.Errorf("Set mismatch: %s", diff)
	}
	bad := &Message{Header: Header{{"X", "a\r\nOUT"}}}
	if _, err := bad.Bytes(); err == nil {
		t.Errorf("Bytes() with CRLF in value succeeded")
	}
}

func TestParseMessageErrors(t *testing.T) {
	many := strings.Repeat("X-A: 1\r\n", MaxHeaders+1) + "\r\n"
	for _, tc := range []struct{ name, in string }{
		{"no blank line", "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"},
		{"no colon", "MIME-Version 1.0\r\n\r\nbody"},
		{"empty key", ": x\r\n\r\n"},
		{"space in key", "Bad Key: x\r\n\r\n"},
		{"too many headers", many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseMessage([]byte(tc.in)); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParseMessage(%.40q) error = %v, want ErrMalformed", tc.in, err)
			}
		})
	}
}

func FuzzParseMessage(f *testing.F) {
	for _, s := range []string{textMsg, typingMsg, inviteMsg, profileMsg, "a: b\n\nc", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := ParseMessage(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		_ = m.ContentType()
		_ = m.Param("charset")
		b, err := m.Bytes()
		if err != nil {
			return // e.g. a colon-free value is fine but a key with ':' cannot come back
		}
		m2, err := ParseMessage(b)
		if err != nil {
			t.Fatalf("reparse of %q: %v", b, err)
		}
		if !cmp.Equal(m.Header, m2.Header) || string(m.Body) != string(m2.Body) {
			t.Fatalf("round trip mismatch: %+v vs %+v", m, m2)
		}
	})
}

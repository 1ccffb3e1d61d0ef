package voice

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// block is one MSG of a transcript.
type block struct {
	kind    string // "MSG" or "==="
	from    string // MSG sender account
	line    string // the MSG or === line
	payload []byte // MSG payload, CRLF
}

// readTranscript parses a testdata transcript: comments, then MSG blocks
// (the MSG line, then its payload lines) and "===" step lines.
func readTranscript(t testing.TB, name string) []block {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(raw), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var out []block
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "=== "):
			out = append(out, block{kind: "===", line: l})
		case strings.HasPrefix(l, "MSG "):
			f := strings.Fields(l)
			if len(f) != 4 {
				t.Fatalf("%s: %q: want MSG account name length", name, l)
			}
			n, err := strconv.Atoi(f[3])
			if err != nil {
				t.Fatalf("%s: %q: %v", name, l, err)
			}
			var p []byte
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "MSG ") && !strings.HasPrefix(lines[i+1], "=== ") {
				i++
				p = append(p, lines[i]...)
				p = append(p, '\r', '\n')
			}
			if len(p) != n {
				t.Fatalf("%s: %q: payload is %d bytes with CRLF, the line says %d", name, l, len(p), n)
			}
			out = append(out, block{kind: "MSG", from: f[1], line: l, payload: p})
		case strings.HasPrefix(l, "#"), strings.TrimSpace(l) == "":
		default:
			t.Fatalf("%s: unexpected line %q", name, l)
		}
	}
	return out
}

// body returns an MSG block's invitation body after checking its MIME type.
func (b block) body(t testing.TB) []byte {
	t.Helper()
	m, err := msnp.ParseMessage(b.payload)
	if err != nil {
		t.Fatalf("%s: %v", b.line, err)
	}
	if m.ContentType() != msnp.TypeInvite {
		t.Fatalf("%s: content type %q", b.line, m.ContentType())
	}
	return m.Body
}

func TestTranscriptsParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/wm5-*.txt")
	if len(files) < 4 {
		t.Fatalf("transcripts: %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, b := range readTranscript(t, filepath.Base(f)) {
				if b.kind != "MSG" {
					continue
				}
				body := b.body(t)
				inv, err := Parse(body)
				if err != nil {
					t.Fatalf("Parse(%s) = %v", b.line, err)
				}
				out, err := inv.Marshal()
				if err != nil || !bytes.Equal(out, body) {
					t.Errorf("Marshal(Parse(%s)) = %q, %v; want the body back %q", b.line, out, err, body)
				}
				if inv.Cookie != 289142 {
					t.Errorf("%s: cookie %d", b.line, inv.Cookie)
				}
			}
		})
	}
}

// TestBuildersMatchTranscript checks that what we build is, field for
// field, what the transcript shows Windows Messenger sending.
func TestBuildersMatchTranscript(t *testing.T) {
	bs := readTranscript(t, "wm5-order-a.txt")
	const sid = "{6E8B6A44-2C6C-4F4E-9A57-1C0E5B7D2F31}"
	want := []*Invitation{
		NewInvite(289142, sid),
		NewAccept(289142, sid, netip.MustParseAddrPort("192.168.1.31:6901")),
		NewAccept(289142, sid, netip.MustParseAddrPort("192.168.1.20:6901")),
	}
	for i, w := range want {
		got, _ := w.Marshal()
		if body := bs[i].body(t); !bytes.Equal(got, body) {
			t.Errorf("builder %d = %q, want transcript %s %q", i, got, bs[i].line, body)
		}
	}
	c := readTranscript(t, "wm5-decline.txt")
	got, _ := NewCancel(289142, sid, CancelReject).Marshal()
	if body := c[1].body(t); !bytes.Equal(got, body) {
		t.Errorf("NewCancel = %q, want %q", got, body)
	}
}

func lines(ls ...string) []byte { return []byte(strings.Join(ls, "\r\n") + "\r\n\r\n") }

var (
	validInvite = []string{
		"Application-Name: an audio conversation", "Application-GUID: " + GUID, "Session-Protocol: SM1",
		"Context-Data: Requested:SIP_A,;Capabilities:SIP_A,;", "Invitation-Command: INVITE",
		"Invitation-Cookie: 77", "Session-ID: {6E8B6A44-2C6C-4F4E-9A57-1C0E5B7D2F31}",
	}
	validAccept = []string{"Invitation-Command: ACCEPT", "Invitation-Cookie: 77",
		"IP-Address: 10.0.0.2:6901", "IP-Address-Enc64: MTAuMC4wLjI6NjkwMQ=="}
)

func replace(ls []string, key, line string) []string {
	out := []string{}
	for _, l := range ls {
		if strings.HasPrefix(l, key+":") {
			if line != "" {
				out = append(out, line)
			}
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want error
		text string
	}{
		{"file transfer", lines(replace(validInvite, "Application-GUID", "Application-GUID: {5D3E02AB-6190-11D3-BBBB-00C04F795683}")...), ErrNotVoice, ""},
		{"no command", lines(replace(validInvite, "Invitation-Command", "")...), ErrMalformed, "no Invitation-Command"},
		{"bad command", lines(replace(validInvite, "Invitation-Command", "Invitation-Command: RING")...), ErrMalformed, "RING"},
		{"no cookie", lines(replace(validInvite, "Invitation-Cookie", "")...), ErrMalformed, "Invitation-Cookie"},
		{"zero cookie", lines(replace(validInvite, "Invitation-Cookie", "Invitation-Cookie: 0")...), ErrMalformed, "Invitation-Cookie"},
		{"cookie overflow", lines(replace(validInvite, "Invitation-Cookie", "Invitation-Cookie: 4294967296")...), ErrMalformed, "Invitation-Cookie"},
		{"cookie sign", lines(replace(validInvite, "Invitation-Cookie", "Invitation-Cookie: +5")...), ErrMalformed, "Invitation-Cookie"},
		{"no session", lines(replace(validInvite, "Session-ID", "")...), ErrMalformed, "Session-ID"},
		{"bad session", lines(replace(validInvite, "Session-ID", "Session-ID: {nope}")...), ErrMalformed, "Session-ID"},
		{"protocol", lines(replace(validInvite, "Session-Protocol", "Session-Protocol: SM2")...), ErrMalformed, "SM1"},
		{"video only", lines(replace(validInvite, "Context-Data", "Context-Data: Requested:SIP_V,;")...), ErrMalformed, "SIP_A"},
		{"duplicate", lines(append(validInvite, "Invitation-Cookie: 78")...), ErrMalformed, "twice"},
		{"not header", lines("Invitation-Command ACCEPT"), ErrMalformed, ""},
		{"too big", append(lines(validInvite...), bytes.Repeat([]byte("X-Pad: y\r\n"), 500)...), ErrMalformed, "limit"},
		{"long value", lines(append(validInvite, "X-Pad: "+strings.Repeat("y", MaxValue+1))...), ErrMalformed, "limit"},
		{"addr not ip", lines(replace(replace(validAccept, "IP-Address-Enc64", ""), "IP-Address", "IP-Address: example.com:6901")...), ErrMalformed, "ip:port"},
		{"addr port 0", lines(replace(replace(validAccept, "IP-Address-Enc64", ""), "IP-Address", "IP-Address: 10.0.0.2:0")...), ErrMalformed, "port 0"},
		{"addr unspecified", lines(replace(replace(validAccept, "IP-Address-Enc64", ""), "IP-Address", "IP-Address: 0.0.0.0:6901")...), ErrMalformed, "host address"},
		{"addr multicast", lines(replace(replace(validAccept, "IP-Address-Enc64", ""), "IP-Address", "IP-Address: 224.0.0.1:6901")...), ErrMalformed, "host address"},
		{"enc64 disagrees", lines(replace(validAccept, "IP-Address-Enc64", "IP-Address-Enc64: MTAuMC4wLjM6NjkwMQ==")...), ErrMalformed, "Enc64 says"},
		{"enc64 not base64", lines(replace(validAccept, "IP-Address-Enc64", "IP-Address-Enc64: !!")...), ErrMalformed, "base64"},
		{"cancel code", lines("Invitation-Command: CANCEL", "Invitation-Cookie: 77", "Cancel-Code: A B"), ErrMalformed, "Cancel-Code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse(tt.body)
			if !errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.text) {
				t.Fatalf("Parse = %+v, %v; want %v mentioning %q", inv, err, tt.want, tt.text)
			}
		})
	}
}

func TestParseAccept(t *testing.T) {
	for _, ls := range [][]string{validAccept, replace(validAccept, "IP-Address", ""), replace(validAccept, "IP-Address-Enc64", "")} {
		inv, err := Parse(lines(ls...))
		if err != nil || inv.Addr != netip.MustParseAddrPort("10.0.0.2:6901") || inv.Command != CmdAccept {
			t.Errorf("Parse(%q) = %+v, %v; want ACCEPT from 10.0.0.2:6901", ls, inv, err)
		}
	}
}

func TestNewSessionID(t *testing.T) {
	for range 100 {
		if s := NewSessionID(); !validGUID(s) {
			t.Fatalf("NewSessionID() = %q", s)
		}
		if NewCookie() == 0 {
			t.Fatal("NewCookie() = 0")
		}
	}
}

// FuzzParse: Parse never panics, and what it accepts marshals to a body
// that parses to the same invitation and marshals identically again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/wm5-*.txt")
	for _, fn := range files {
		for _, b := range readTranscript(f, filepath.Base(fn)) {
			if b.kind == "MSG" {
				f.Add(b.body(f))
			}
		}
	}
	f.Add(lines(validInvite...))
	f.Add(lines(validAccept...))
	f.Add([]byte("Invitation-Command: CANCEL\r\nInvitation-Cookie: 1\r\n"))
	f.Add([]byte("Invitation-Command: ACCEPT\nInvitation-Cookie: 9\nIP-Address: [::1]:6901\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		inv, err := Parse(body)
		if err != nil {
			return
		}
		b1, err := inv.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed invitation: %v", err)
		}
		inv2, err := Parse(b1)
		if err != nil {
			t.Fatalf("Parse(Marshal(%q)) = %v", body, err)
		}
		b2, _ := inv2.Marshal()
		if !bytes.Equal(b1, b2) || inv.Cookie != inv2.Cookie || inv.Addr != inv2.Addr || inv.Command != inv2.Command ||
			inv.SessionID != inv2.SessionID || inv.CancelCode != inv2.CancelCode {
			t.Fatalf("round trip changed %q: %+v -> %+v", body, inv, inv2)
		}
	})
}

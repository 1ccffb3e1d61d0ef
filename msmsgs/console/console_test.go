package console

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/transfer"
)

// testLang is the shipped en-US locale (the same text as msmsgs/strings.go).
func testLang() *msgslang.Catalog {
	return msgslang.Load(filepath.Join("..", "..", "msgslang", "locales"), "en-US", msgslang.Options{})
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"Jos\u00e9", "Jos\u00e9"},
		{"a\x1b[2Jb", "a?b"},
		{"a\u009b2Jb", "a?b"},
		{"\x1b[31;1mred\x1b[0m", "?red?"},
		{"t\x1b]0;owned\x07x", "t?x"},
		{"t\x1b]52;c;aGk=\x1b\\x", "t?x"},
		{"a\x1bcb", "a?b"},
		{"abc\u202egpj.exe", "abc?gpj.exe"},
		{"zero\u200bwidth\u2028line", "zero?width?line"},
		{"a\x7fb\r\n", "a?b??"},
		{"\xff", "?"},
		{"\U0001F600", "\U0001F600"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestConsoleStripsEscapes: names, message text and error texts from the
// network reach the terminal without escape sequences or control
// characters, whatever type they are formatted from.
func TestConsoleStripsEscapes(t *testing.T) {
	long := "\x1b[" + strings.Repeat("1;", 1000) + "m" // skipped at most maxEscape bytes at a time
	if got := printable(long); !strings.HasPrefix(got, "?") || strings.ContainsRune(got, 0x1b) || len(got) >= len(long) {
		t.Errorf("printable(long CSI) = %.20q..., want it to start with ? and carry no ESC", got)
	}
	var b bytes.Buffer
	p := &printer{lang: testLang(), w: &b}
	renderEvent(p, client.Event{Type: client.EventMessage, Conversation: "c1", Name: "Bob\x1b[2J\x1b[H", Text: "hi\x1b]0;pwned\x07\r\nfake line"})
	renderEvent(p, client.Event{Type: client.EventPresence, Account: "bob@x", Name: "\u202eevil", Status: "NLN"})
	renderEvent(p, client.Event{Type: client.EventError, Error: "server said \x1b[31mno"})
	p.line("con.failed", errors.New("switchboard: \x1b[5mblink"))
	out := b.String()
	for i, r := range out {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x202e {
			t.Fatalf("console output has control character %U at byte %d:\n%q", r, i, out)
		}
	}
	for _, want := range []string{"[c1] Bob??: hi???fake line", "?evil", "server said ?no", "failed: switchboard: ?blink"} {
		if !strings.Contains(out, want) {
			t.Errorf("console output %q lacks %q", out, want)
		}
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {20 << 20, "20.0 MiB"}, {3 << 30, "3.0 GiB"},
	}
	for _, tt := range tests {
		if got := byteSize(tt.n); got != tt.want {
			t.Errorf("byteSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestProgressDisplay(t *testing.T) {
	ev := client.Event{Type: transfer.EventProgress, Cookie: 7, File: "a.bin", Bytes: 5 << 20, Total: 10 << 20}
	t.Run("terminal", func(t *testing.T) {
		var b bytes.Buffer
		p := &printer{lang: testLang(), w: &b, tty: true}
		renderEvent(p, ev)
		ev2 := ev
		ev2.Bytes = 10 << 20
		renderEvent(p, ev2)
		renderEvent(p, client.Event{Type: transfer.EventDone, Cookie: 7, File: "a.bin", Path: "/dl/a.bin"})
		want := "\r* \"a.bin\": 5.0 MiB of 10.0 MiB (50%)\x1b[K\r* \"a.bin\": 10.0 MiB of 10.0 MiB (100%)\x1b[K\r\x1b[K* \"a.bin\": done, /dl/a.bin\n"
		if got := b.String(); got != want {
			t.Errorf("terminal output = %q, want %q", got, want)
		}
	})
	t.Run("plain", func(t *testing.T) {
		var b bytes.Buffer
		p := &printer{lang: testLang(), w: &b}
		renderEvent(p, ev)
		renderEvent(p, ev) // within plainProgressEvery: not printed
		if got, want := b.String(), "* \"a.bin\": 5.0 MiB of 10.0 MiB (50%)\n"; got != want {
			t.Errorf("plain output = %q, want %q", got, want)
		}
	})
}

func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"hello", "a\x1b[2Jb", "t\x1b]0;x\x07", "\x1b", "\x1b[", "\x1b]", "\u009b1;2m", "\u202e", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := printable(s)
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError && !strings.ContainsRune(s, utf8.RuneError) {
				t.Fatalf("printable(%q) = %q keeps %U", s, out, r)
			}
		}
		if len(out) > 3*len(s) {
			t.Fatalf("printable(%q) grew to %d bytes", s, len(out))
		}
	})
}

func TestSIPArgs(t *testing.T) {
	for _, tt := range []struct {
		cmd  string
		args []string
		want string
	}{
		{"/status", []string{"sip:"}, "status sip:"},
		{"/status", nil, "status sip:"},
		{"/status", []string{"busy", "sip:"}, "status set busy sip:"},
		{"/list", []string{"sip:"}, "contacts sip:"},
		{"/contacts", nil, "contacts sip:"},
		{"/msg", []string{"sip:bob@lab.test", "hi", "there"}, "send sip:bob@lab.test hi there"},
		{"/add", []string{"sip:bob@lab.test"}, "add sip:bob@lab.test"},
		{"/remove", []string{"sip:bob@lab.test"}, "remove sip:bob@lab.test"},
		{"/call", []string{"sip:bob@lab.test"}, ""},
		{"/sendfile", []string{"sip:bob@lab.test", "x"}, ""},
	} {
		if got := strings.Join(sipArgs(tt.cmd, tt.args), " "); got != tt.want {
			t.Errorf("sipArgs(%s %q) = %q, want %q", tt.cmd, tt.args, got, tt.want)
		}
	}
}

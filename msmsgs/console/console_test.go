package console

import (
	"bytes"
	"path/filepath"
	"testing"

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
		{"a\x1b[2Jb", "a?[2Jb"},
		{"a\u009b2Jb", "a?2Jb"},
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

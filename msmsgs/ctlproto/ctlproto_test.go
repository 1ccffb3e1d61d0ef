package ctlproto

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/transfer"
)

// testLang is the shipped en-US locale (the same text as msmsgs/strings.go).
// known is the built-in command set.
func known(name string) bool { _, ok := Lookup(name); return ok }

func testLang() *msgslang.Catalog {
	return msgslang.Load(filepath.Join("..", "..", "msgslang", "locales"), "en-US", msgslang.Options{})
}

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]string{"busy": "BSY", "BSY": "BSY", "online": "NLN", "hidden": "HDN", "Away": "AWY", "lunch": "LUN", "phone": "PHN", "brb": "BRB", "idle": "IDL"} {
		if got, err := ParseStatus(in, testLang()); err != nil || string(got) != want {
			t.Errorf("parseStatus(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"FLN", "offline", "", "sleepy"} {
		if got, err := ParseStatus(in, testLang()); err == nil {
			t.Errorf("parseStatus(%q) = %q, want error", in, got)
		}
	}
}

func TestMatchEvent(t *testing.T) {
	e := client.Event{Type: "presence", Account: "bob@example.com", Status: "BSY"}
	tests := []struct {
		typ     string
		filters []string
		want    bool
	}{
		{"presence", nil, true},
		{"any", nil, true},
		{"message", nil, false},
		{"presence", []string{"account=BOB@example.com"}, true},
		{"presence", []string{"status=busy"}, true},
		{"presence", []string{"status=NLN"}, false},
		{"presence", []string{"account=bob@example.com", "status=BSY"}, true},
		{"presence", []string{"bogus=1"}, false},
	}
	for _, tt := range tests {
		if got := MatchEvent(e, tt.typ, tt.filters); got != tt.want {
			t.Errorf("MatchEvent(%s, %q) = %v, want %v", tt.typ, tt.filters, got, tt.want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`{"args":["send","bob@x","hi"]}`, []string{"send", "bob@x", "hi"}, true},
		{`{"args":["status"]}`, []string{"status"}, true},
		{`{"args":[]}`, nil, false},
		{`{"args":["rm","-rf"]}`, nil, false},
		{`not json`, nil, false},
		{`{"args":"send"}`, nil, false},
	}
	for _, tt := range tests {
		r, err := ParseRequest([]byte(tt.in), known, testLang())
		if (err == nil) != tt.ok {
			t.Errorf("parseRequest(%s) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && !cmp.Equal(r.Args, tt.want) {
			t.Errorf("parseRequest(%s) = %q, want %q", tt.in, r.Args, tt.want)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"args":["send","bob@x","hi"]}`))
	f.Add([]byte(`{"args":["wait","-timeout","5s","presence","status=BSY"]}`))
	f.Add([]byte(`{"args":[]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b, known, testLang())
		if err != nil {
			return
		}
		if len(r.Args) == 0 {
			t.Fatalf("parseRequest(%q) accepted an empty request", b)
		}
		if !known(r.Args[0]) {
			t.Fatalf("parseRequest(%q) accepted unknown command %q", b, r.Args[0])
		}
		// Re-encoding gives the same request.
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseRequest(again, known, testLang())
		if err != nil || !cmp.Equal(r, r2) {
			t.Fatalf("round trip of %q: %v, %v", b, r2, err)
		}
	})
}

func TestMatchEventCookie(t *testing.T) {
	e := client.Event{Type: transfer.EventDone, Cookie: 12345, File: "Report.PDF"}
	tests := []struct {
		filters []string
		want    bool
	}{
		{[]string{"cookie=12345"}, true},
		{[]string{"cookie=1234"}, false},
		{[]string{"file=report.pdf"}, true},
		{[]string{"cookie=12345", "file=x"}, false},
	}
	for _, tt := range tests {
		if err := ValidFilters(tt.filters); err != nil {
			t.Fatalf("ValidFilters(%v) = %v", tt.filters, err)
		}
		if got := MatchEvent(e, transfer.EventDone, tt.filters); got != tt.want {
			t.Errorf("MatchEvent(%v) = %v, want %v", tt.filters, got, tt.want)
		}
	}
}

// TestWaitForStartingDaemon: `ctl wait-signin` run before the daemon has
// made its socket waits for it instead of failing at once.
func TestWaitForStartingDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("unix", sock)
		if err != nil {
			return
		}
		defer l.Close()
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := Dial(ctx, sock, []string{"wait-signin", "-timeout", "5s"})
	if err != nil {
		t.Fatalf("Dial(wait-signin) before the socket exists = %v, want it to wait", err)
	}
	conn.Close()
	if time.Since(start) < 250*time.Millisecond {
		t.Errorf("dialCtl returned after %v, before the socket existed", time.Since(start))
	}
	// Other commands fail at once.
	var out bytes.Buffer
	if err := Do(ctx, filepath.Join(t.TempDir(), "none.sock"), []string{"status"}, &out, testLang()); err == nil {
		t.Error("ctlDo(status) without a daemon = nil error")
	}
	if got := WaitTimeout([]string{"wait", "-timeout", "7s", "message"}); got != 7*time.Second {
		t.Errorf("waitTimeout = %v, want 7s", got)
	}
}

// TestBuiltinNamesValid: msmsgs ctl can send every built-in command, and
// ValidName refuses what no command is named.
func TestBuiltinNamesValid(t *testing.T) {
	for name := range builtin {
		if !ValidName(name) {
			t.Errorf("ValidName(%q) = false for a built-in command", name)
		}
	}
	for _, name := range []string{"", "Send", "send_file", "send file", strings.Repeat("a", MaxName+1)} {
		if ValidName(name) {
			t.Errorf("ValidName(%q) = true, want false", name)
		}
	}
}

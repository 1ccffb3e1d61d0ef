package sipmsg

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const msg = "MESSAGE sip:bob@lab.test SIP/2.0\r\n" +
	"v: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK1\r\n" +
	"f: \"Alice\" <sip:alice@lab.test>;tag=a1\r\n" +
	"t: <sip:bob@lab.test>\r\n" +
	"i: call-1\r\n" +
	"CSeq: 2 MESSAGE\r\n" +
	"Content-Type: text/plain; charset=UTF-8\r\n" +
	"l: 5\r\n\r\nhello"

func TestReadCompactAndBody(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("\r\n\r\n" + msg + msg))
	for i := 0; i < 2; i++ {
		m, err := Read(br, Limits{})
		if err != nil {
			t.Fatalf("Read #%d = %v", i, err)
		}
		if m.Method != "MESSAGE" || m.Get("Call-ID") != "call-1" || string(m.Body) != "hello" || AddrURI(m.Get("From")) != "sip:alice@lab.test" || Param(m.Get("From"), "tag") != "a1" {
			t.Fatalf("Read #%d = %+v", i, m)
		}
	}
	if _, err := Read(br, Limits{}); err != io.EOF {
		t.Errorf("Read at end = %v, want io.EOF", err)
	}
	m, _ := Parse([]byte(msg), Limits{})
	back, err := Parse(m.Bytes(), Limits{})
	if err != nil || string(back.Body) != "hello" || back.Get("From") != m.Get("From") {
		t.Errorf("Parse(Bytes()) = %+v, %v", back, err)
	}
}

func TestReadRefuses(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     error
	}{
		{"no CSeq", strings.Replace(msg, "CSeq: 2 MESSAGE\r\n", "", 1), ErrMalformed},
		{"bad CSeq", strings.Replace(msg, "CSeq: 2 MESSAGE", "CSeq: two", 1), ErrMalformed},
		{"bad request line", strings.Replace(msg, "SIP/2.0\r\n", "HTTP/1.1\r\n", 1), ErrMalformed},
		{"header without colon", strings.Replace(msg, "i: call-1", "i call-1", 1), ErrMalformed},
		{"huge body", strings.Replace(msg, "l: 5", "l: 99999999", 1), ErrTooLarge},
		{"negative length", strings.Replace(msg, "l: 5", "l: -1", 1), ErrMalformed},
		{"huge header", strings.Replace(msg, "i: call-1", "i: "+strings.Repeat("x", 140<<10), 1), ErrTooLarge},
		{"too many headers", strings.Replace(msg, "i: call-1\r\n", "i: call-1\r\n"+strings.Repeat("X-A: 1\r\n", 200), 1), ErrTooLarge},
		{"cut body", strings.TrimSuffix(msg, "lo"), ErrMalformed},
		{"cut headers", msg[:40], ErrMalformed},
		{"bad status", "SIP/2.0 99 Nope\r\ni: 1\r\nCSeq: 1 A\r\nf: a\r\nt: b\r\n\r\n", ErrMalformed},
	} {
		_, err := Parse([]byte(tt.in), Limits{})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: Parse = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(msg))
	f.Add([]byte("SIP/2.0 401 Unauthorized\r\ni: 1\r\nCSeq: 1 REGISTER\r\nf: <sip:a@b>;tag=1\r\nt: <sip:a@b>\r\nWWW-Authenticate: Kerberos realm=\"x\"\r\n\r\n"))
	f.Add([]byte("\r\n\r\nX"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b, Limits{MaxHeaderBytes: 4096, MaxBody: 4096})
		if err != nil {
			return
		}
		if len(m.Body) > 4096 {
			t.Fatalf("body of %d bytes passed a 4096 limit", len(m.Body))
		}
		if _, err := Parse(m.Bytes(), Limits{}); err != nil {
			t.Fatalf("Parse(Bytes()) of a parsed message = %v\n%q", err, m.Bytes())
		}
	})
}

// TestCorpus parses testdata/valid (including the [MS-SIPAE] section 4.2
// Kerberos example exchange) and refuses testdata/invalid.
func TestCorpus(t *testing.T) {
	for _, dir := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.sip"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no corpus in testdata/%s: %v", dir, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(b, Limits{})
			if dir == "valid" {
				if err != nil {
					t.Errorf("Parse(%s) = %v", f, err)
				} else if _, err := Parse(m.Bytes(), Limits{}); err != nil {
					t.Errorf("Parse(Bytes(%s)) = %v", f, err)
				}
			} else if err == nil {
				t.Errorf("Parse(%s) = nil error", f)
			}
		}
	}
	m, _ := Parse(mustRead(t, "testdata/valid/sipae-4.2-401.sip"), Limits{})
	if got := m.GetAll("WWW-Authenticate"); len(got) != 2 || !strings.HasPrefix(got[1], "Kerberos ") {
		t.Errorf("401 challenges = %q", got)
	}
}

func mustRead(t *testing.T, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package msnp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// profileMsg is the MSNP8 profile message from the protocol documentation
// (with CRLF line endings as on the wire).
var profileMsg = strings.ReplaceAll(`MIME-Version: 1.0
Content-Type: text/x-msmsgsprofile; charset=UTF-8
LoginTime: 1726321960
EmailEnabled: 1
MemberIdHigh: 1
MemberIdLow: 2
lang_preference: 1033
PreferredEmail: example@hotmail.com
country: US
PostalCode: 
Gender: 
Kid: 0
Age: 
BDayPre: 
Birthday: 
Wallet: 
Flags: 1027
sid: 507
kv: 11
MSPAuth: whatever+t+is+in+your+passport+login+ticket+that+you+sent+for+USR+TWN+S$
ClientIP: 192.168.1.111
ClientPort: 18183

`, "\n", "\r\n")

func TestReaderSession(t *testing.T) {
	stream := "USR 7 OK example@hotmail.com example%20user 1 0\r\n" +
		"MSG Hotmail Hotmail " + strconv.Itoa(len(profileMsg)) + "\r\n" + profileMsg +
		"SYN 8 15 1 1\r\nGTC A\nBLP AL\r\n" +
		"CHL 0 15570131571988941333\r\n"
	want := []Command{
		{Name: "USR", TrID: 7, Args: []string{"OK", "example@hotmail.com", "example%20user", "1", "0"}},
		{Name: "MSG", TrID: NoTrID, Args: []string{"Hotmail", "Hotmail"}, Payload: []byte(profileMsg)},
		{Name: "SYN", TrID: 8, Args: []string{"15", "1", "1"}},
		{Name: "GTC", TrID: NoTrID, Args: []string{"A"}},
		{Name: "BLP", TrID: NoTrID, Args: []string{"AL"}},
		{Name: "CHL", TrID: 0, Args: []string{"15570131571988941333"}},
	}
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", strings.NewReader(stream)},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(stream))},
		{"half", iotest.HalfReader(strings.NewReader(stream))},
		{"data with EOF", iotest.DataErrReader(strings.NewReader(stream))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.r)
			r.MaxPayload = MaxServerPayload
			var got []Command
			for {
				c, err := r.ReadCommand()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("ReadCommand() error %v after %d commands", err, len(got))
				}
				got = append(got, c)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("commands mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReaderLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		maxPay int
		want   error
	}{
		{"line too long", "REA 1 a@b " + strings.Repeat("x", 5000) + "\r\n", 0, ErrLineTooLong},
		{"line too long no newline", strings.Repeat("x", 10000), 0, ErrLineTooLong},
		{"client payload too large", "MSG 1 A 1665\r\n" + strings.Repeat("x", 1665), 0, ErrPayloadTooLarge},
		{"server payload bound", "MSG a b 2000\r\n" + strings.Repeat("x", 2000), 1999, ErrPayloadTooLarge},
		{"truncated payload", "MSG 1 A 100\r\nshort", 0, io.ErrUnexpectedEOF},
		{"truncated line", "USR 1 TWN", 0, io.ErrUnexpectedEOF},
		{"malformed", "usr 1\r\n", 0, ErrMalformed},
		{"empty line", "\r\n", 0, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in))
			if tc.maxPay > 0 {
				r.MaxPayload = tc.maxPay
			}
			_, err := r.ReadCommand()
			if !errors.Is(err, tc.want) {
				t.Errorf("ReadCommand(%.30q) error = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
	// A payload exactly at the client bound is accepted.
	r := NewReader(strings.NewReader("MSG 1 A 1664\r\n" + strings.Repeat("x", 1664)))
	if c, err := r.ReadCommand(); err != nil || len(c.Payload) != 1664 {
		t.Errorf("ReadCommand(1664-byte MSG) = %d bytes, %v", len(c.Payload), err)
	}
	// A line just under MaxLine is accepted.
	line := "REA 1 a@b " + strings.Repeat("x", DefaultMaxLine-12) + "\r\n"
	r = NewReader(strings.NewReader(line))
	if _, err := r.ReadCommand(); err != nil {
		t.Errorf("ReadCommand(%d-byte line) error %v", len(line), err)
	}
}

func TestReaderRelease(t *testing.T) {
	r := NewReader(strings.NewReader("PNG\r\nPNG\r\n"))
	for i := 0; i < 2; i++ {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
		r.Release()
	}
	if r.buf != nil || r.Buffered() != 0 {
		t.Errorf("Release kept a buffer of %d bytes", len(r.buf))
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Errorf("ReadCommand at end = %v, want EOF", err)
	}
}

func TestWriterConcurrentOverConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := NewWriter(a)
	const n = 50
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := w.Write(Command{Name: "MSG", TrID: i, Args: []string{"A"}, Payload: NewTextMessageBytes(t, "hi")}); err != nil {
				t.Errorf("Write: %v", err)
			}
		}(i)
	}
	r := NewReader(b)
	seen := map[int]bool{}
	for i := 0; i < n; i++ {
		c, err := r.ReadCommand()
		if err != nil {
			t.Fatalf("ReadCommand: %v", err)
		}
		m, err := ParseMessage(c.Payload)
		if err != nil || string(m.Body) != "hi" {
			t.Fatalf("message %d = %v, %v", i, m, err)
		}
		seen[c.TrID] = true
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("saw %d distinct transactions, want %d", len(seen), n)
	}
	if err := w.Write(Command{Name: "bad"}); err == nil {
		t.Errorf("Write(bad name) succeeded")
	}
}

func NewTextMessageBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := NewTextMessage(s).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("MSG 1 A 5\r\nhelloPNG\r\n"))
	f.Add([]byte("USR 7 OK a@b n 1 0\r\nMSG Hotmail Hotmail 3\r\nabc"))
	f.Add([]byte(strings.Repeat("x", 5000)))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(iotest.HalfReader(bytes.NewReader(in)))
		r.MaxLine = 512
		for i := 0; i < 100; i++ {
			c, err := r.ReadCommand()
			if err != nil {
				return
			}
			if len(c.Payload) > MaxClientPayload {
				t.Fatalf("payload of %d bytes passed the bound", len(c.Payload))
			}
		}
	})
}

package proxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Seed replies captured from dante 1.4.2 and tinyproxy 1.11.1 on loopback,
// plus broken ones.
var (
	seedSOCKS5 = [][]byte{
		{5, 0, 0, 1, 127, 0, 0, 1, 0x9c, 0x40}, // success
		{5, 2, 0, 1, 0, 0, 0, 0, 0, 0},         // not allowed
		{5, 5, 0, 1, 0, 0, 0, 0, 0, 0},         // refused
		{5, 0, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 80},
		{5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0},
		{4, 0, 0, 1},
		{5, 0, 0, 9},
		{5, 0, 0, 3, 200, 'x'},
	}
	seedSOCKS4 = [][]byte{
		{0, 90, 0, 0, 0, 0, 0, 0},
		{0, 91, 0, 0, 0, 0, 0, 0},
		{0, 92, 0, 0, 0, 0, 0, 0},
		{4, 90, 0, 0, 0, 0, 0, 0},
		{0, 17},
	}
	seedConnect = []string{
		"HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n",
		"HTTP/1.0 407 Proxy Authentication Required\r\nServer: tinyproxy/1.11.1\r\nContent-Type: text/html\r\nProxy-Authenticate: Basic realm=\"Tinyproxy\"\r\nConnection: close\r\n\r\n",
		"HTTP/1.0 403 Access violation\r\nServer: tinyproxy/1.11.1\r\n\r\n",
		"HTTP/1.0 500 Unable to connect\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\nVER 1 MSNP8\r\n",
		"SSH-2.0-OpenSSH\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n",
		"HTTP/1.1 200",
	}
)

// captures returns the real proxy replies in testdata/captures whose
// names start with prefix.
func captures(tb testing.TB, prefix string) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "captures", prefix+"*.bin"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no testdata/captures/%s*.bin: %v", prefix, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	return out
}

func FuzzSOCKS5Reply(f *testing.F) {
	for _, s := range seedSOCKS5 {
		f.Add(s)
	}
	for _, b := range captures(f, "socks5-") {
		f.Add(b[2:]) // after the method reply
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		code, addr, err := readSOCKS5Reply(bytes.NewReader(b))
		if err == nil && code == 0 {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				t.Errorf("readSOCKS5Reply(%x) = bound address %q, not host:port", b, addr)
			}
		}
		if len(b) >= 2 {
			parseSOCKS5Method(b[:2])
			parseSOCKS5AuthReply(b[:2])
		}
	})
}

func FuzzSOCKS4Reply(f *testing.F) {
	for _, s := range seedSOCKS4 {
		f.Add(s)
	}
	for _, b := range captures(f, "socks4-") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		code, err := parseSOCKS4Reply(b)
		if err == nil && (code < 90 || code > 93) {
			t.Errorf("parseSOCKS4Reply(%x) = %d, nil; want a code in 90..93", b, code)
		}
	})
}

func FuzzConnectReply(f *testing.F) {
	for _, s := range seedConnect {
		f.Add(s)
	}
	for _, b := range captures(f, "connect-") {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, _, err := readConnectReply(bufio.NewReader(bytes.NewReader([]byte(s))))
		if err == nil && (code < 100 || code > 599) {
			t.Errorf("readConnectReply(%q) = %d, want 100..599", s, code)
		}
	})
}

// pipeDialer hands out one end of a net.Pipe whose other end plays reply.
type pipeDialer struct{ reply []byte }

func (p pipeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, s := net.Pipe()
	go func() {
		defer s.Close()
		go io.Copy(io.Discard, s)
		s.Write(p.reply)
	}()
	return c, nil
}

// FuzzHandshake drives the whole client handshake of each kind against
// arbitrary proxy replies: it must end with a conn or an *Error, never hang
// or panic.
func FuzzHandshake(f *testing.F) {
	for _, s := range seedSOCKS5 {
		f.Add(uint8(0), append([]byte{5, 0}, s...))
		f.Add(uint8(0), append([]byte{5, 2, 1, 0}, s...))
		f.Add(uint8(0), append([]byte{5, 2, 1, 1}, s...))
		f.Add(uint8(0), []byte{5, 0xff})
	}
	for _, s := range seedSOCKS4 {
		f.Add(uint8(1), s)
		f.Add(uint8(2), s)
	}
	for _, s := range seedConnect {
		f.Add(uint8(3), []byte(s))
	}
	for prefix, k := range map[string]uint8{"socks5-": 0, "socks4-": 1, "connect-": 3} {
		for _, b := range captures(f, prefix) {
			f.Add(k, b)
		}
	}
	kinds := []Kind{SOCKS5, SOCKS4, SOCKS4A, HTTP}
	f.Fuzz(func(t *testing.T, k uint8, reply []byte) {
		d := &Dialer{
			Kind: kinds[int(k)%len(kinds)], Addr: "proxy.test:1080", User: "u", Password: "p",
			Forward: pipeDialer{reply}, HandshakeTimeout: 2 * time.Second,
			LookupIP: func(context.Context, string, string) ([]net.IP, error) { return []net.IP{{10, 0, 0, 1}}, nil },
		}
		conn, err := d.Dial("tcp", "ns.test:1863")
		if err == nil {
			conn.Close()
			return
		}
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("Dial = %T %v, want *Error", err, err)
		}
	})
}

// TestCaptures: real replies from dante and tinyproxy give the right outcome.
func TestCaptures(t *testing.T) {
	tests := []struct {
		file string
		kind Kind
		want error // nil: connected
	}{
		{"socks5-ok.bin", SOCKS5, nil},
		{"socks5-ruleset.bin", SOCKS5, ErrNotAllowed},
		{"socks5-refused.bin", SOCKS5, ErrDestination},
		{"socks4-ok.bin", SOCKS4, nil},
		{"socks4-rejected.bin", SOCKS4, ErrNotAllowed},
		{"connect-200.bin", HTTP, nil},
		{"connect-407.bin", HTTP, ErrAuth},
		{"connect-403.bin", HTTP, ErrNotAllowed},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "captures", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			d := &Dialer{Kind: tc.kind, Addr: "proxy.test:1080", User: "lab", Password: "pw", Forward: pipeDialer{b}, HandshakeTimeout: 10 * time.Second}
			conn, err := d.Dial("tcp", "127.0.0.1:1863")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Dial with %s = %v, want success", tc.file, err)
				}
				conn.Close()
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Dial with %s = %v, want %v", tc.file, err, tc.want)
			}
		})
	}
}

package msnftp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// frames builds a block stream from payload sizes; data is 'a'+i%26.
func frames(sizes ...int) ([]byte, []byte) {
	var stream, data []byte
	for _, n := range sizes {
		stream = append(stream, 0, byte(n), byte(n>>8))
		for i := 0; i < n; i++ {
			c := byte('a' + len(data)%26)
			stream = append(stream, c)
			data = append(data, c)
		}
	}
	return stream, data
}

func TestEncodeDecode(t *testing.T) {
	for _, size := range []int{0, 1, MaxBlock, MaxBlock + 1, 5*MaxBlock - 3, encBlocks*MaxBlock + 10} {
		data := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		enc := newBlockEncoder(encBlocks)
		var stream bytes.Buffer
		src := bytes.NewReader(data)
		for left := int64(size); left > 0; {
			out, n, err := enc.frame(src, left)
			if err != nil {
				t.Fatalf("frame: %v", err)
			}
			out.WriteTo(&stream)
			left -= int64(n)
		}
		// Every block is at most MaxBlock with a 0 first header byte.
		s := stream.Bytes()
		for i := 0; i < len(s); {
			n := int(binary.LittleEndian.Uint16(s[i+1:]))
			if s[i] != 0 || n > MaxBlock || n == 0 {
				t.Fatalf("size %d: block at %d has header % x", size, i, s[i:i+3])
			}
			i += 3 + n
		}
		// Decoding through one-byte reads gives the data back.
		var got bytes.Buffer
		n, err := copyBlocks(&got, iotest.OneByteReader(bytes.NewReader(s)), int64(size), [][]byte{make([]byte, 4096)}, nil)
		if err != nil || n != int64(size) || !bytes.Equal(got.Bytes(), data) {
			t.Errorf("copyBlocks(size %d) = %d, %v; data equal %v", size, n, err, bytes.Equal(got.Bytes(), data))
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	ok, _ := frames(10)
	tests := []struct {
		name   string
		stream []byte
		size   int64
		want   error
	}{
		{"cancel block", append(append([]byte{}, ok...), 1, 0, 0), 20, ErrCancelled},
		{"bad first byte", []byte{2, 1, 0, 'x'}, 1, ErrProtocol},
		{"block beyond size", []byte{0, 5, 0, 'a', 'b', 'c', 'd', 'e'}, 4, ErrProtocol},
		{"short stream", ok, 20, ErrProtocol},
		{"header cut", []byte{0, 1}, 1, ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := copyBlocks(io.Discard, bytes.NewReader(tc.stream), tc.size, [][]byte{make([]byte, 64), make([]byte, 64)}, nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("copyBlocks(% x, %d) = %v, want %v", tc.stream, tc.size, err, tc.want)
			}
		})
	}
}

func TestReadLine(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr error
	}{
		{"VER MSNFTP\r\nTFR\r\n", []string{"VER MSNFTP", "TFR"}, io.EOF},
		{"CCL\n", []string{"CCL"}, io.EOF},
		{"USR a b", nil, ErrProtocol},
		{strings.Repeat("x", MaxLine+10) + "\r\n", nil, ErrProtocol},
	}
	for _, tc := range tests {
		br := bufio.NewReaderSize(strings.NewReader(tc.in), 16)
		var got []string
		var err error
		for {
			var line string
			if line, err = readLine(br); err != nil {
				break
			}
			got = append(got, line)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || !errors.Is(err, tc.wantErr) {
			t.Errorf("readLine(%.30q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func FuzzBlockStream(f *testing.F) {
	s, _ := frames(3, MaxBlock, 1)
	f.Add(s, int64(MaxBlock+4))
	f.Add([]byte{1, 0, 0}, int64(5))
	f.Add([]byte{0, 0xff, 0xff}, int64(70000))
	f.Add([]byte{0, 0, 0, 0, 2, 0, 'h', 'i'}, int64(2))
	f.Fuzz(func(t *testing.T, stream []byte, size int64) {
		if size < 0 || size > 1<<20 {
			return
		}
		var out bytes.Buffer
		n, err := copyBlocks(&out, iotest.HalfReader(bytes.NewReader(stream)), size, [][]byte{make([]byte, 7), make([]byte, 5)}, nil)
		if n != int64(out.Len()) || n > size {
			t.Fatalf("copyBlocks wrote %d, reported %d, size %d", out.Len(), n, size)
		}
		if err == nil && n != size {
			t.Fatalf("copyBlocks = %d bytes with no error, want %d", n, size)
		}
		if err != nil && !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrCancelled) {
			t.Fatalf("copyBlocks error %v is neither ErrProtocol nor ErrCancelled", err)
		}
		// Lines: bounded, never panic.
		br := bufio.NewReaderSize(bytes.NewReader(stream), 16)
		for i := 0; i < 100; i++ {
			line, err := readLine(br)
			if err != nil {
				break
			}
			if len(line) > MaxLine {
				t.Fatalf("readLine returned %d bytes, limit %d", len(line), MaxLine)
			}
		}
	})
}

// rawSender listens on loopback and plays script against one receiver.
func rawSender(t *testing.T, script func(c net.Conn, br *bufio.Reader)) *Invitation {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		script(c, bufio.NewReader(c))
	}()
	return &Invitation{Command: CommandAccept, Cookie: 42, IPAddress: "127.0.0.1",
		Port: ln.Addr().(*net.TCPAddr).Port, AuthCookie: 7, HasAuthCookie: true}
}

// TestHostileSender plays broken senders against the real Receiver.
func TestHostileSender(t *testing.T) {
	hello := func(c net.Conn, br *bufio.Reader, fil string) string {
		readLine(br) // VER
		io.WriteString(c, "VER MSNFTP\r\n")
		readLine(br) // USR
		io.WriteString(c, fil)
		l, _ := readLine(br) // TFR or CCL
		return l
	}
	tests := []struct {
		name   string
		script func(c net.Conn, br *bufio.Reader)
		want   error
	}{
		{"FIL larger than offered", func(c net.Conn, br *bufio.Reader) { hello(c, br, "FIL 999999\r\n") }, ErrProtocol},
		{"bad VER", func(c net.Conn, br *bufio.Reader) { readLine(br); io.WriteString(c, "VER FOO\r\n") }, ErrProtocol},
		{"cookie refused", func(c net.Conn, br *bufio.Reader) {
			readLine(br)
			io.WriteString(c, "VER MSNFTP\r\n")
			readLine(br)
		}, ErrAuth},
		{"block overruns", func(c net.Conn, br *bufio.Reader) {
			hello(c, br, "FIL 10\r\n")
			s, _ := frames(11)
			c.Write(s)
			io.Copy(io.Discard, br)
		}, ErrProtocol},
		{"closes early", func(c net.Conn, br *bufio.Reader) {
			hello(c, br, "FIL 10\r\n")
			s, _ := frames(5)
			c.Write(s)
		}, ErrProtocol},
		{"cancel block", func(c net.Conn, br *bufio.Reader) {
			hello(c, br, "FIL 10\r\n")
			s, _ := frames(5)
			c.Write(append(s, 1, 0, 0))
			io.Copy(io.Discard, br)
		}, ErrCancelled},
		{"huge line", func(c net.Conn, br *bufio.Reader) {
			readLine(br)
			io.WriteString(c, strings.Repeat("V", 100000))
		}, ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			dir := t.TempDir()
			acc := rawSender(t, tc.script)
			offer := &Invitation{Command: CommandInvite, Cookie: 42, AppGUID: FileTransferGUID, FileName: "f", FileSize: 10}
			if p, err := rcvIn(dir).Receive(ctx, offer, acc); !errors.Is(err, tc.want) {
				t.Errorf("Receive against %s = %q, %v; want %v", tc.name, p, err, tc.want)
			}
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("downloads folder = %q, want empty", got)
			}
		})
	}
}

// TestHostileReceiver plays broken receivers against the real Sender.
func TestHostileReceiver(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		want  error
	}{
		{"no VER", "HELLO\r\n", ErrProtocol},
		{"CCL instead of TFR", "VER MSNFTP\r\nUSR a@b %d\r\nCCL\r\n", ErrCancelled},
		{"BYE with error code", "VER MSNFTP\r\nUSR a@b %d\r\nTFR\r\nBYE 2147942405\r\n", ErrCancelled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			s := newSender(freePorts(t, 1))
			s.AcceptTimeout = testTimeout
			offer, _ := NewOffer("f", 1<<20)
			l, err := s.Listen(ctx, offer)
			if err != nil {
				t.Fatal(err)
			}
			acc := l.Accept()
			done := make(chan error, 1)
			go func() {
				c, err := net.Dial("tcp", net.JoinHostPort(acc.IPAddress, itoa(acc.Port)))
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				if strings.Contains(tc.lines, "%d") {
					tc.lines = strings.Replace(tc.lines, "%d", itoa(int(acc.AuthCookie)), 1)
				}
				io.WriteString(c, tc.lines)
				io.Copy(io.Discard, c)
				done <- nil
			}()
			var refused error
			s.Notify = func(e Event) {
				if e.Kind == EventRefused {
					refused = e.Err
					l.Close() // one refusal is enough for this test
				}
			}
			err = l.Serve(ctx, io.LimitReader(zeros{}, 1<<20))
			if errors.Is(err, net.ErrClosed) && refused != nil {
				err = refused
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Serve against %s = %v, want %v", tc.name, err, tc.want)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func itoa(i int) string { return strconv.Itoa(i) }

// TestDocumentedSession replays the documented MSNFTP exchange (a sender
// that ends with a 01 00 00 block after the data) against the Receiver
// and checks every line the Receiver sends.
func TestDocumentedSession(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	got := make(chan []string, 1)
	acc := rawSender(t, func(c net.Conn, br *bufio.Reader) {
		var lines []string
		l, _ := readLine(br)
		lines = append(lines, l)
		io.WriteString(c, "VER MSNFTP\r\n")
		l, _ = readLine(br)
		lines = append(lines, l)
		io.WriteString(c, "FIL 11\r\n")
		l, _ = readLine(br)
		lines = append(lines, l)
		c.Write([]byte("\x00\x0b\x00hello world\x01\x00\x00"))
		l, _ = readLine(br)
		lines = append(lines, l)
		got <- lines
	})
	dir := t.TempDir()
	offer := &Invitation{Command: CommandInvite, Cookie: 42, AppGUID: FileTransferGUID, FileName: "hello.txt", FileSize: 11}
	p, err := rcvIn(dir).Receive(ctx, offer, acc)
	if err != nil {
		t.Fatalf("Receive = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "hello world" {
		t.Errorf("received %q, want %q", b, "hello world")
	}
	want := []string{"VER MSNFTP", "USR bob@example.com 7", "TFR", "BYE 16777989"}
	if diff := cmp.Diff(want, <-got); diff != "" {
		t.Errorf("receiver lines (-want +got):\n%s", diff)
	}
}

// TestSenderLines checks every line and block the Sender transmits to a
// scripted receiver.
func TestSenderLines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := newSender(freePorts(t, 1))
	offer, _ := NewOffer("hello.txt", 11)
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	acc := l.Accept()
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, strings.NewReader("hello world")) }()
	c, err := net.Dial("tcp", net.JoinHostPort(acc.IPAddress, itoa(acc.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	io.WriteString(c, "VER MSNFTP\r\n")
	ver, _ := readLine(br)
	io.WriteString(c, "USR bob@example.com "+itoa(int(acc.AuthCookie))+"\r\n")
	fil, _ := readLine(br)
	io.WriteString(c, "TFR\r\n")
	block := make([]byte, 14)
	if _, err := io.ReadFull(br, block); err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "BYE 16777989\r\n")
	if diff := cmp.Diff([]string{"VER MSNFTP", "FIL 11", "\x00\x0b\x00hello world"}, []string{ver, fil, string(block)}); diff != "" {
		t.Errorf("sender output (-want +got):\n%s", diff)
	}
	if err := <-serr; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

// TestInternalAddressFallback gives an unreachable IP-Address and the
// loopback as IP-Address-Internal: the receiver still connects.
func TestInternalAddressFallback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := newSender(freePorts(t, 1))
	offer, _ := NewOffer("a.txt", 3)
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	acc := l.Accept()
	acc.IPAddress = "127.0.0.2" // nothing listens there on this port
	acc.IPAddressInternal = "127.0.0.1"
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, strings.NewReader("abc")) }()
	if _, err := rcvIn(t.TempDir()).Receive(ctx, offer, acc); err != nil {
		t.Errorf("Receive with a working IP-Address-Internal = %v", err)
	}
	if err := <-serr; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func TestConnectRefusedLeavesNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	offer := &Invitation{Command: CommandInvite, Cookie: 1, AppGUID: FileTransferGUID, FileName: "x", FileSize: 1}
	acc := &Invitation{Command: CommandAccept, Cookie: 1, IPAddress: "127.0.0.1", Port: port, AuthCookie: 2, HasAuthCookie: true}
	if _, err := rcvIn(dir).Receive(ctx, offer, acc); err == nil {
		t.Errorf("Receive from a closed port = nil, want an error")
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("downloads folder = %q, want empty", got)
	}
}

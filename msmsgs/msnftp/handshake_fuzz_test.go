package msnftp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
)

// FuzzReceiverHandshake feeds the receiver's side of VER / USR / FIL / TFR
// and the block stream after it with arbitrary sender bytes: the receiver
// must not panic, must accept only a FIL that matches the offered size,
// and must stop at the announced size.
func FuzzReceiverHandshake(f *testing.F) {
	f.Add([]byte("VER MSNFTP\r\nFIL 5\r\n\x00\x05\x00hello"), int64(5))
	f.Add([]byte("VER MSNFTP\r\nFIL 0\r\n"), int64(0))
	f.Add([]byte("VER MSNP8 MSNFTP\r\nFIL 3\r\n\x00\x02\x00ab\x00\x01\x00c"), int64(3))
	f.Add([]byte("VER MSNFTP\r\nFIL 3\r\n\x01\x00\x00"), int64(3))
	f.Add([]byte("VER MSNFTP\r\nFIL -1\r\n"), int64(1))
	f.Add([]byte("VER MSNFTP\r\nFIL 99999999999999999999\r\n"), int64(1))
	f.Add([]byte("VER MSNFTP\r\nFIL 2 extra\r\n"), int64(2))
	f.Add([]byte("VER MSNFTP\nCCL\n"), int64(2))
	f.Add([]byte("VER\r\n"), int64(2))
	f.Add([]byte(strings.Repeat("A", 2000)+"\r\n"), int64(2))
	f.Fuzz(func(t *testing.T, stream []byte, size int64) {
		if size < 0 || size > 1<<20 {
			size = 0
		}
		offer, err := NewOffer("f.bin", size)
		if err != nil {
			return
		}
		accept := &Invitation{Command: CommandAccept, Cookie: offer.Cookie, AuthCookie: 7, HasAuthCookie: true}
		conn, peer := net.Pipe()
		defer conn.Close()
		go io.Copy(io.Discard, peer) // what the receiver sends
		defer peer.Close()
		r := &Receiver{Email: "bob@example.com"}
		br := bufio.NewReader(bytes.NewReader(stream))
		got, err := r.handshake(conn, br, offer, accept)
		if err != nil {
			return
		}
		if got != size {
			t.Fatalf("handshake accepted FIL %d for an offer of %d bytes", got, size)
		}
		var out bytes.Buffer
		n, err := copyBlocks(&out, br, got, [][]byte{make([]byte, 64), make([]byte, 64)}, nil)
		if n > size || int64(out.Len()) != n {
			t.Fatalf("copyBlocks wrote %d (%d in the buffer) of %d bytes", n, out.Len(), size)
		}
		if err == nil && n != size {
			t.Fatalf("copyBlocks = %d of %d bytes without an error", n, size)
		}
		if err != nil && !errors.Is(err, ErrProtocol) && !errors.Is(err, ErrCancelled) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("copyBlocks error %v wraps neither ErrProtocol nor ErrCancelled", err)
		}
	})
}

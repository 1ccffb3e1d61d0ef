package msnftp

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCookieGuessesLimited: connections with wrong AuthCookies at the
// sender's port end the transfer after maxBadConnections; later guesses
// find the port closed, so the cookie cannot be guessed by trying.
func TestCookieGuessesLimited(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := newSender(freePorts(t, 1))
	var refused atomic.Int64
	s.Notify = func(e Event) {
		if e.Kind == EventRefused {
			refused.Add(1)
		}
	}
	offer, _ := NewOffer("f", 1<<10)
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	acc := l.Accept()
	addr := net.JoinHostPort(acc.IPAddress, itoa(acc.Port))
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, io.LimitReader(zeros{}, 1<<10)) }()
	guess := func(cookie uint32) bool {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		defer c.Close()
		fmt.Fprintf(c, "VER MSNFTP\r\nUSR mallory@example.com %d\r\n", cookie)
		b, _ := io.ReadAll(c)
		return strings.Contains(string(b), "FIL ")
	}
	for i := range uint32(maxBadConnections) {
		if guess(acc.AuthCookie + 1 + i) {
			t.Fatalf("a wrong cookie got FIL")
		}
	}
	err = <-serr
	if err == nil || !strings.Contains(err.Error(), "bad connections") {
		t.Errorf("Serve after %d wrong cookies = %v, want it to give up", maxBadConnections, err)
	}
	if guess(acc.AuthCookie) {
		t.Error("after the limit, the right cookie still got the file: guesses are not limited")
	}
	if n := refused.Load(); n != maxBadConnections {
		t.Errorf("refused %d connections, want %d", n, maxBadConnections)
	}
}

package server

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
)

var (
	fuzzOnce sync.Once
	fuzzLab  *lab
)

// FuzzSession feeds arbitrary bytes to the server, as a notification session
// after a real sign-in and as a switchboard connection; the server must
// never crash and must keep serving.
func FuzzSession(f *testing.F) {
	f.Add([]byte("SYN 5 0\r\nCHG 6 BSY 0\r\n"), false)
	f.Add([]byte("ADD 5 FL bob@lab.test Bob 0\r\nREM 6 FL bob@lab.test\r\nBLP 7 BL\r\n"), false)
	f.Add([]byte("QRY 5 msmsgs@msnmsgr.com 32\r\n00000000000000000000000000000000"), false)
	f.Add([]byte("XFR 5 SB\r\nREA 6 alice@lab.test %zz\r\nADG 7 x 0\r\nRMG 8 1\r\n"), false)
	f.Add([]byte("USR 1 alice@lab.test 1.2.3\r\nMSG 2 A 5\r\nhello"), true)
	f.Add([]byte("ANS 1 alice@lab.test 1.2.3 99\r\nCAL 2 bob@lab.test\r\n"), true)
	f.Fuzz(func(t *testing.T, in []byte, sb bool) {
		fuzzOnce.Do(func() {
			// A lab that outlives this test function: all inputs share it.
			fuzzLab = startLabNoCleanup(t)
			fuzzLab.addUser("alice@lab.test", pw, "Alice")
			fuzzLab.addUser("bob@lab.test", pw, "Bob")
		})
		lb := fuzzLab
		var c *labclient.Conn
		if sb {
			var err error
			c, err = labclient.Dial(context.Background(), lb.addr)
			if err != nil {
				t.Fatal(err)
			}
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var err error
			c, err = labclient.SignIn(ctx, lb.hc, lb.addr, lb.nexus, "alice@lab.test", pw)
			if err != nil {
				t.Fatalf("sign-in: %v", err)
			}
		}
		defer c.Close()
		c.Write(in)
		c.Conn.(*net.TCPConn).CloseWrite() // the server sees EOF after the input
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, c.Conn)
		// Still serving.
		p, err := net.DialTimeout("tcp", lb.addr, 10*time.Second)
		if err != nil {
			t.Fatalf("server gone after %q: %v", in, err)
		}
		defer p.Close()
		pc := labclient.NewConn(p)
		if _, err := pc.Call("VER", "MSNP8"); err != nil {
			t.Fatalf("server not answering after %q: %v", in, err)
		}
	})
}

package gateway_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/feature/wininet/proxy"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

// startBackend runs a TCP line server standing in for an MSNP server:
// it echoes lines, answers "PUSH x" with "OK x" and 50 ms later sends
// "PUSHED x" on its own, and hangs up on "OUT".
func startBackend(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				var wmu sync.Mutex
				write := func(s string) {
					wmu.Lock()
					defer wmu.Unlock()
					io.WriteString(c, s)
				}
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					switch f := strings.Fields(line); {
					case len(f) == 2 && f[0] == "PUSH":
						write("OK " + f[1] + "\r\n")
						time.AfterFunc(50*time.Millisecond, func() { write("PUSHED " + f[1] + "\r\n") })
					case len(f) == 1 && f[0] == "OUT":
						write("OUT\r\n")
						return
					default:
						write(line)
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

func startGateway(t testing.TB, srv *gateway.Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(gateway.Path, srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL + gateway.Path
}

func readLine(t testing.TB, br *bufio.Reader, conn net.Conn) string {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return line
}

func exchange(t *testing.T, d *gateway.Dialer, nsAddr string) {
	t.Helper()
	conn, err := d.Dial(context.Background(), gateway.NS, nsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	fmt.Fprint(conn, "VER 1 MSNP8 CVR0\r\n")
	if got := readLine(t, br, conn); got != "VER 1 MSNP8 CVR0\r\n" {
		t.Fatalf("open reply = %q, want the VER echo", got)
	}
	first := conn.SessionID()
	fmt.Fprint(conn, "PUSH a\r\n")
	if got := readLine(t, br, conn); got != "OK a\r\n" {
		t.Fatalf("send reply = %q, want OK a", got)
	}
	// Delivered by a poll.
	if got := readLine(t, br, conn); got != "PUSHED a\r\n" {
		t.Fatalf("polled = %q, want PUSHED a", got)
	}
	if conn.SessionID() == first {
		t.Errorf("SessionID stayed %q; the server rotates it and the client must follow", first)
	}
	fmt.Fprint(conn, "OUT\r\n")
	if got := readLine(t, br, conn); got != "OUT\r\n" {
		t.Fatalf("OUT reply = %q", got)
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("read after OUT = %v, want io.EOF (Session=close)", err)
	}
}

func TestGatewayDirect(t *testing.T) {
	ns := startBackend(t)
	srv := &gateway.Server{NSAddr: ns, Logf: t.Logf}
	u := startGateway(t, srv)
	exchange(t, &gateway.Dialer{URL: u, PollInterval: 100 * time.Millisecond}, "messenger.lab:1863")
	if n := srv.Sessions(); n != 0 {
		t.Errorf("Sessions() after OUT = %d, want 0", n)
	}
}

// TestGatewayThroughTinyproxy: the device's HTTP client (wininet, proxy
// with Basic auth) carries the gateway session through a real HTTP proxy.
func TestGatewayThroughTinyproxy(t *testing.T) {
	ns := startBackend(t)
	u := startGateway(t, &gateway.Server{NSAddr: ns, Logf: t.Logf})
	tiny := proxytest.StartTinyproxy(t, proxytest.TinyOptions{User: "lab", Password: "s3cret"})
	st, _ := certs.Load(certs.Config{})
	client, err := wininet.NewClient(wininet.Config{Proxy: "http://lab:s3cret@" + tiny.Addr, Certs: st, Resolver: &wininet.Resolver{Servers: []string{"127.0.0.1:1"}}})
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, &gateway.Dialer{Client: client, URL: u, PollInterval: 100 * time.Millisecond}, "messenger.lab")

	// Wrong proxy password: the open request fails with a clear error.
	bad, _ := wininet.NewClient(wininet.Config{Proxy: "http://lab:wrong@" + tiny.Addr, Certs: st})
	conn, _ := (&gateway.Dialer{Client: bad, URL: u}).Dial(context.Background(), gateway.NS, "messenger.lab")
	defer conn.Close()
	fmt.Fprint(conn, "VER 1 MSNP8 CVR0\r\n")
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = conn.Read(make([]byte, 10))
	if !errors.Is(err, proxy.ErrAuth) || !strings.Contains(err.Error(), "gateway: open NS session") {
		t.Errorf("Read through proxy with wrong password = %v, want a proxy authentication error", err)
	}
}

func TestGatewaySwitchboard(t *testing.T) {
	ns := startBackend(t)
	sb := startBackend(t)
	u := startGateway(t, &gateway.Server{NSAddr: ns, Listeners: []string{sb}, Logf: t.Logf})
	d := &gateway.Dialer{URL: u, PollInterval: 100 * time.Millisecond}
	conn, err := d.Dial(context.Background(), gateway.SB, sb)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "USR 1 dev@lab 1234.5678\r\n")
	if got := readLine(t, bufio.NewReader(conn), conn); got != "USR 1 dev@lab 1234.5678\r\n" {
		t.Fatalf("SB reply = %q", got)
	}
	// The switchboard as the client sees it: on the gateway's own address
	// ("localhost" in the gateway URL) is mapped to NSAddr's host.
	_, sbPort, _ := net.SplitHostPort(sb)
	local := &gateway.Dialer{URL: strings.Replace(u, "127.0.0.1", "localhost", 1), PollInterval: 100 * time.Millisecond, IgnoreGatewayIP: true}
	lc, _ := local.Dial(context.Background(), gateway.SB, "localhost:"+sbPort)
	defer lc.Close()
	fmt.Fprint(lc, "ANS 1 dev@lab 1.2 3\r\n")
	if got := readLine(t, bufio.NewReader(lc), lc); got != "ANS 1 dev@lab 1.2 3\r\n" {
		t.Fatalf("SB via gateway alias reply = %q", got)
	}
	// A switchboard on another host is refused: the gateway is no open relay.
	other, _ := d.Dial(context.Background(), gateway.SB, "192.0.2.1:1863")
	defer other.Close()
	fmt.Fprint(other, "USR 1 dev@lab x\r\n")
	other.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = other.Read(make([]byte, 10))
	if err == nil || !strings.Contains(err.Error(), "not served by this gateway") {
		t.Errorf("SB on a foreign host = %v, want refusal", err)
	}
}

// TestOneOutstanding: a second request while one is in flight gets 400.
func TestOneOutstanding(t *testing.T) {
	// A backend that never answers keeps the send request waiting; it
	// reports each command it receives.
	got := make(chan string, 10)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			go func() {
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					got <- line
				}
			}()
		}
	}()
	srv := &gateway.Server{NSAddr: l.Addr().String(), ReplyWait: 2 * time.Second, Logf: t.Logf}
	u := startGateway(t, srv)
	post := func(q, body string) (*http.Response, gateway.Header) {
		resp, err := http.Post(u+"?"+q, gateway.ContentType, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		h, _ := gateway.ParseHeader(resp.Header.Get(gateway.HeaderName))
		return resp, h
	}
	resp, h := post("Action=open&Server=NS&IP=x", "VER 1 MSNP8 CVR0\r\n")
	if resp.StatusCode != 200 || h.SessionID == "" {
		t.Fatalf("open = %s %+v", resp.Status, h)
	}
	<-got // VER
	done := make(chan *http.Response)
	go func() {
		r, _ := post("SessionID="+h.SessionID, "PNG\r\n")
		done <- r
	}()
	<-got // PNG reached the backend: the send is in flight.
	if r, _ := post("Action=poll&SessionID="+h.SessionID, ""); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("poll during an outstanding request = %s, want 400", r.Status)
	}
	if r := <-done; r.StatusCode != 200 {
		t.Errorf("outstanding send = %s, want 200", r.Status)
	}
	// Stale (rotated) and unknown ids are refused.
	if r, _ := post("Action=poll&SessionID=1.2", ""); r.StatusCode != http.StatusBadRequest {
		t.Errorf("poll with unknown id = %s, want 400", r.Status)
	}
	if r, _ := post("Action=open&Server=XX&IP=x", "VER\r\n"); r.StatusCode != http.StatusBadGateway {
		t.Errorf("open Server=XX = %s, want 502", r.Status)
	}
	if r, err := http.Get(u); err != nil || r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET = %v %v, want 405", r, err)
	}
}

func TestIdleSessionsExpire(t *testing.T) {
	ns := startBackend(t)
	srv := &gateway.Server{NSAddr: ns, IdleTimeout: 200 * time.Millisecond, Logf: t.Logf}
	u := startGateway(t, srv)
	resp, err := http.Post(u+"?Action=open&Server=NS&IP=x", gateway.ContentType, strings.NewReader("VER 1 MSNP8\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Sessions() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Sessions() = %d 20 s after the client went away, want 0", srv.Sessions())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAutoKind(t *testing.T) {
	ns := startBackend(t)
	u := startGateway(t, &gateway.Server{NSAddr: ns, Logf: t.Logf})
	d := &gateway.Dialer{URL: u, PollInterval: 100 * time.Millisecond}
	for _, tc := range []struct{ first, wantKind, wantErr string }{
		{"VER 1 MSNP8 CVR0\r\n", "NS", ""},
		{"USR 1 dev@lab 1.2\r\n", "SB", ""},
		{"ANS 1 dev@lab 1.2 3\r\n", "SB", ""},
		{"PNG\r\n", "", "cannot tell NS from SB"},
	} {
		c, err := d.DialContext(context.Background(), "tcp", ns)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(c, tc.first)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := bufio.NewReader(c).ReadString('\n')
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("first command %q: read = %q, %v; want error %q", tc.first, got, err, tc.wantErr)
			}
		} else if err != nil || got != tc.first {
			t.Errorf("first command %q: read = %q, %v", tc.first, got, err)
		} else if k := c.RemoteAddr().(gateway.Addr).Kind; string(k) != tc.wantKind {
			t.Errorf("first command %q: kind = %q, want %q", tc.first, k, tc.wantKind)
		}
		c.Close()
	}
}

func TestDialErrors(t *testing.T) {
	d := &gateway.Dialer{URL: "ftp://x"}
	if _, err := d.Dial(context.Background(), gateway.NS, "x"); err == nil {
		t.Error("Dial with ftp URL = nil error")
	}
	d = &gateway.Dialer{URL: "http://" + proxytest.ClosedAddr(t) + gateway.Path}
	if _, err := d.Dial(context.Background(), "XX", "x"); err == nil {
		t.Error("Dial kind XX = nil error")
	}
	c, err := d.Dial(context.Background(), gateway.NS, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("VER 1 MSNP8 CVR0\r\n"))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = c.Read(make([]byte, 1))
	if err == nil || !strings.Contains(err.Error(), "gateway: open NS session") || errors.Is(err, io.EOF) {
		t.Errorf("Read with gateway down = %v, want an open error", err)
	}
}

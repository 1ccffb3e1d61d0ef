package gateway_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/wininet/gateway"
)

// post sends one gateway request from local address from (any when "")
// and returns the status, the parsed header and the body.
func post(t *testing.T, from, u, query, body string) (int, gateway.Header, string) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		tr.DialContext = d.DialContext
	}
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	resp, err := c.Post(u+"?"+query, gateway.ContentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	h, _ := gateway.ParseHeader(resp.Header.Get(gateway.HeaderName))
	return resp.StatusCode, h, string(b)
}

// TestGatewayOnlyOwnListeners: Server=SB with IP= naming another port on
// the service's host (here a web server) is refused and nothing connects
// to that port; IP= naming one of the service's listeners works.
func TestGatewayOnlyOwnListeners(t *testing.T) {
	ns := startBackend(t)
	other := startBackend(t) // a listener of the service, e.g. for VM guests
	var hits atomic.Int64
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "secret page\n")
	}))
	web.Listener = countingListener{web.Listener, &hits}
	web.Start()
	defer web.Close()
	_, webPort, _ := net.SplitHostPort(web.Listener.Addr().String())
	u := startGateway(t, &gateway.Server{NSAddr: ns, Listeners: []string{other}, Logf: t.Logf})

	for _, ip := range []string{"127.0.0.1:" + webPort, "localhost:" + webPort, "127.0.0.1:22", "192.0.2.1:1863"} {
		code, _, body := post(t, "", u, "Action=open&Server=SB&IP="+ip, "GET / HTTP/1.0\r\n\r\n")
		if code != http.StatusForbidden || !strings.Contains(body, "not served by this gateway") || strings.Contains(body, "secret") {
			t.Errorf("open SB IP=%s = %d %q, want 403 not served by this gateway", ip, code, body)
		}
	}
	// Server=NS with a foreign IP= goes to NSAddr, not to IP=.
	code, _, body := post(t, "", u, "Action=open&Server=NS&IP=127.0.0.1:"+webPort, "VER 1 MSNP8\r\n")
	if code != 200 || body != "VER 1 MSNP8\r\n" {
		t.Errorf("open NS IP=web server = %d %q, want the NS echo", code, body)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the web server got %d connections through the gateway, want 0", n)
	}
	for _, ip := range []string{other} {
		if code, _, body := post(t, "", u, "Action=open&Server=SB&IP="+ip, "USR 1 a@b 1.2\r\n"); code != 200 || body != "USR 1 a@b 1.2\r\n" {
			t.Errorf("open SB IP=%s (a listener of the service) = %d %q, want the echo", ip, code, body)
		}
	}
	if code, _, body := post(t, "", u, "Action=open&Server=NS&IP="+other, "VER 2 MSNP8\r\n"); code != 200 || body != "VER 2 MSNP8\r\n" {
		t.Errorf("open NS IP=%s (a separate NS of the service) = %d %q, want the echo", other, code, body)
	}
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestGatewaySessionCaps: one address gets MaxSessionsPerAddr sessions,
// another address still gets one, and MaxSessions bounds them all; a
// closed session frees its place.
func TestGatewaySessionCaps(t *testing.T) {
	ns := startBackend(t)
	srv := &gateway.Server{NSAddr: ns, MaxSessions: 3, MaxSessionsPerAddr: 2, Logf: t.Logf}
	u := startGateway(t, srv)
	open := func(from string) (int, gateway.Header, string) {
		return post(t, from, u, "Action=open&Server=NS", "VER 1 MSNP8\r\n")
	}
	var first gateway.Header
	for i := range 2 {
		code, h, body := open("127.0.0.1")
		if code != 200 {
			t.Fatalf("session %d from 127.0.0.1 = %d %q", i+1, code, body)
		}
		first = h
	}
	if code, _, body := open("127.0.0.1"); code != http.StatusServiceUnavailable || !strings.Contains(body, "too many sessions from your address") {
		t.Errorf("third session from one address = %d %q, want 503 too many sessions from your address", code, body)
	}
	if code, _, body := open("127.0.0.2"); code != 200 {
		t.Errorf("session from another address while the first holds its maximum = %d %q, want 200", code, body)
	}
	if code, _, body := open("127.0.0.3"); code != http.StatusServiceUnavailable || !strings.Contains(body, "too many sessions (3 open)") {
		t.Errorf("session past MaxSessions = %d %q, want 503 too many sessions", code, body)
	}
	// OUT ends a session (the backend hangs up): its place is free again.
	if code, h, _ := post(t, "127.0.0.1", u, "SessionID="+first.SessionID, "OUT\r\n"); code != 200 || !h.Closed {
		t.Fatalf("OUT = %d %+v, want Session=close", code, h)
	}
	if code, _, body := open("127.0.0.1"); code != 200 {
		t.Errorf("session after one closed = %d %q, want 200", code, body)
	}
}

// TestGatewayBuffered: a server that sends much more than the client polls
// for is held to MaxBuffered bytes per session; everything still arrives,
// in order, over the following polls.
func TestGatewayBuffered(t *testing.T) {
	const limit = 64 << 10
	want := bytes.Repeat([]byte("0123456789abcdef"), (1<<20)/16) // 1 MiB
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.ReadFull(c, make([]byte, 5))
		c.Write(want)
		time.Sleep(time.Minute) // stays open: the client must poll the rest
	}()
	u := startGateway(t, &gateway.Server{NSAddr: l.Addr().String(), MaxBuffered: limit, ReplyWait: 200 * time.Millisecond, Logf: t.Logf})
	code, h, body := post(t, "", u, "Action=open&Server=NS", "VER\r\n")
	if code != 200 {
		t.Fatalf("open = %d %q", code, body)
	}
	if len(body) > limit {
		t.Fatalf("open returned %d bytes, want at most MaxBuffered %d", len(body), limit)
	}
	got := []byte(body)
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // let the gateway fill up
		var b string
		code, h, b = post(t, "", u, "Action=poll&SessionID="+h.SessionID, "")
		if code != 200 {
			t.Fatalf("poll = %d %q", code, b)
		}
		if len(b) > limit {
			t.Fatalf("poll returned %d bytes, want at most MaxBuffered %d", len(b), limit)
		}
		got = append(got, b...)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("got %d bytes (equal prefix: %v), want the %d bytes sent", len(got), bytes.HasPrefix(want, got), len(want))
	}
}

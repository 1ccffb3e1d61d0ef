package gateway_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	_, otherPort, _ := net.SplitHostPort(other)
	for _, ip := range []string{other, "localhost:" + otherPort, "[::1]:" + otherPort} {
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

var (
	fuzzBackendOnce sync.Once
	fuzzBackend     string
	fuzzGot         = make(chan []byte, 64)
)

// startFuzzBackend runs one MSNP-side listener for all fuzz inputs: each
// connection echoes what it reads and, when the client side closes, reports
// everything it read on fuzzGot.
func startFuzzBackend(t *testing.T) string {
	fuzzBackendOnce.Do(func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		fuzzBackend = l.Addr().String()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					var all []byte
					buf := make([]byte, 4096)
					for {
						n, err := c.Read(buf)
						all = append(all, buf[:n]...)
						c.Write(buf[:n])
						if err != nil {
							fuzzGot <- all
							return
						}
					}
				}()
			}
		}()
	})
	return fuzzBackend
}

// FuzzServer feeds the gateway server arbitrary requests: an open (or any
// other action) with a fuzzed query and body, then a send on the session it
// got. The server must answer each with a proper status, dial nothing but
// the MSNP listener it serves (whatever IP= says), give a parseable
// X-MSN-Messenger header on 200, pass the bodies to the MSNP server byte for
// byte and in order, and return only bytes that server sent.
func FuzzServer(f *testing.F) {
	f.Add("Action=open&Server=NS&IP=messenger.hotmail.com", []byte("VER 1 MSNP8 CVR0\r\n"), []byte("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS a@b\r\n"))
	f.Add("Action=open&Server=SB&IP=127.0.0.1:1863", []byte("USR 1 a@b 1.2.3\r\n"), []byte("MSG 2 A 5\r\nhello"))
	f.Add("Action=open&Server=SB&IP=127.0.0.1:22", []byte("SSH-2.0\r\n"), []byte(nil))
	f.Add("Action=open&Server=SB&IP=[::1]:80", []byte("GET / HTTP/1.0\r\n\r\n"), []byte(nil))
	f.Add("Action=open&Server=sb&IP=localhost", []byte("ANS 1 a@b 1.2 3\r\n"), []byte("OUT\r\n"))
	f.Add("Action=poll&SessionID=1.2", []byte(nil), []byte("x"))
	f.Add("SessionID=%zz&Action=open&Server=NS", []byte(""), []byte("PNG\r\n"))
	f.Add("Action=OPEN&Server=NS&IP=%00", bytes.Repeat([]byte("A"), 5000), []byte("\x00\xff"))
	f.Fuzz(func(t *testing.T, query string, body1, body2 []byte) {
		backend := startFuzzBackend(t)
		var dials atomic.Int64
		srv := &gateway.Server{
			NSAddr: backend, ReplyWait: 5 * time.Millisecond, MaxBuffered: 4096, Logf: func(string, ...any) {},
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if addr != backend {
					t.Errorf("query %q: gateway dialled %s, want only the MSNP listener %s", query, addr, backend)
					return nil, errors.New("not allowed")
				}
				dials.Add(1)
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			},
		}
		defer srv.Close()
		do := func(q string, body []byte) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "http://gw.lab.test"+gateway.Path, bytes.NewReader(body))
			req.URL.RawQuery = q // as sent, whatever it holds
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			switch w.Code {
			case 200:
				h, err := gateway.ParseHeader(w.Header().Get(gateway.HeaderName))
				if err != nil || h.SessionID == "" && !h.Closed {
					t.Fatalf("query %q: 200 with header %q: %v", q, w.Header().Get(gateway.HeaderName), err)
				}
				if w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
					t.Fatalf("query %q: Content-Length %s for %d bytes", q, w.Header().Get("Content-Length"), w.Body.Len())
				}
				if w.Body.Len() > srv.MaxBuffered {
					t.Fatalf("query %q: %d bytes returned, more than MaxBuffered", q, w.Body.Len())
				}
			case 400, 403, 413, 502, 503:
			default:
				t.Fatalf("query %q: status %d", q, w.Code)
			}
			return w
		}
		w := do(query, body1)
		if w.Code != 200 {
			if dials.Load() != 0 {
				// A refused request that still opened a connection.
				if got := <-fuzzGot; len(got) != 0 {
					t.Fatalf("query %q refused with %d, but the MSNP server got %q", query, w.Code, got)
				}
			}
			return
		}
		h, _ := gateway.ParseHeader(w.Header().Get(gateway.HeaderName))
		echoed := w.Body.Bytes()
		sent := body1
		if !h.Closed && len(body2) > 0 {
			w2 := do("SessionID="+url.QueryEscape(h.SessionID), body2)
			if w2.Code == 200 {
				sent = append(append([]byte(nil), body1...), body2...)
				echoed = append(echoed, w2.Body.Bytes()...)
			}
		}
		if dials.Load() != 1 {
			t.Fatalf("query %q: %d connections to the MSNP server for one session", query, dials.Load())
		}
		srv.Close()
		var got []byte
		select {
		case got = <-fuzzGot:
		case <-time.After(10 * time.Second):
			t.Fatalf("query %q: MSNP-side connection not closed after Close", query)
		}
		if !bytes.Equal(got, sent) {
			t.Fatalf("query %q: MSNP server got %q, want the request bodies %q", query, got, sent)
		}
		if !bytes.HasPrefix(sent, echoed) {
			t.Fatalf("query %q: client got %q, which the MSNP server did not send (it echoed %q)", query, echoed, sent)
		}
	})
}

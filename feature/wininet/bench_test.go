package wininet_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

// BenchmarkLineRoundTrip sends one MSNP-sized line and waits for its echo,
// over a connection opened directly and through each real proxy kind, in
// the same run. "dial+line" sub-benchmarks include connecting (sign-in
// cost); "line" ones reuse one connection (message round trip).
//
//	go test -run XXX -bench "LineRoundTrip$" ./feature/wininet/
func BenchmarkLineRoundTrip(b *testing.B) {
	echo := proxytest.StartLineEcho(b)
	dante := proxytest.StartDante(b, proxytest.DanteOptions{})
	danteAuth := proxytest.StartDante(b, proxytest.DanteOptions{User: labUser, Password: labPass})
	tiny := proxytest.StartTinyproxy(b, proxytest.TinyOptions{User: labUser, Password: labPass})
	kinds := []struct{ name, proxy string }{
		{"direct", ""},
		{"socks5", "socks5://" + dante.Addr},
		{"socks5-auth", fmt.Sprintf("socks5://%s:%s@%s", labUser, labPass, danteAuth.Addr)},
		{"socks4", "socks4://" + dante.Addr},
		{"http-connect", fmt.Sprintf("http://%s:%s@%s", labUser, labPass, tiny.Addr)},
	}
	line := "MSG 4 N 133\r\nMIME-Version: 1.0 Content-Type: text/plain; charset=UTF-8 X-MMS-IM-Format: FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=0 hello\r\n"
	line = strings.ReplaceAll(line[:len(line)-2], "\r\n", " ") + "\r\n"
	for _, k := range kinds {
		d, err := wininet.NewDialer(wininet.Config{Proxy: k.proxy, Resolver: &wininet.Resolver{Servers: []string{"127.0.0.1:1"}}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("line/"+k.name, func(b *testing.B) {
			c, err := d.Dial("tcp", echo)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			br := bufio.NewReader(c)
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write([]byte(line)); err != nil {
					b.Fatal(err)
				}
				if _, err := br.ReadString('\n'); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("dial+line/"+k.name, func(b *testing.B) {
			for range b.N {
				c, err := d.Dial("tcp", echo)
				if err != nil {
					b.Fatal(err)
				}
				c.Write([]byte(line))
				if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
	// The HTTP gateway, straight and through tinyproxy: one send request
	// per line.
	u := startGatewayFor(b, echo)
	st, _ := certs.Load(certs.Config{})
	for _, gk := range []struct{ name, proxy string }{
		{"http-gateway-noproxy", ""},
		{"http-gateway", fmt.Sprintf("http://%s:%s@%s", labUser, labPass, tiny.Addr)},
	} {
		b.Run("line/"+gk.name, func(b *testing.B) {
			client, err := wininet.NewClient(wininet.Config{Proxy: gk.proxy, Certs: st, Resolver: &wininet.Resolver{Servers: []string{"127.0.0.1:1"}}})
			if err != nil {
				b.Fatal(err)
			}
			conn, err := (&gateway.Dialer{Client: client, URL: u}).Dial(context.Background(), gateway.NS, "ns.lab")
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			br := bufio.NewReader(conn)
			b.ResetTimer()
			for range b.N {
				conn.Write([]byte(line))
				if _, err := br.ReadString('\n'); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLineRoundTripInterleaved does the same line round trip over one
// connection per proxy kind, taking turns every iteration so that a busy
// machine slows every kind alike. It reports median and p90 per kind in
// microseconds, and each kind's median relative to direct (in percent).
//
//	go test -run XXX -bench Interleaved -benchtime 3000x ./feature/wininet/
func BenchmarkLineRoundTripInterleaved(b *testing.B) {
	benchInterleaved(b, false)
}

// BenchmarkDialInterleaved is the same with a new connection per round
// trip (the connection part of sign-in): dial, one line, close.
//
//	go test -run XXX -bench DialInterleaved -benchtime 300x ./feature/wininet/
func BenchmarkDialInterleaved(b *testing.B) {
	benchInterleaved(b, true)
}

func benchInterleaved(b *testing.B, dial bool) {
	echo := proxytest.StartLineEcho(b)
	dante := proxytest.StartDante(b, proxytest.DanteOptions{})
	danteAuth := proxytest.StartDante(b, proxytest.DanteOptions{User: labUser, Password: labPass})
	tiny := proxytest.StartTinyproxy(b, proxytest.TinyOptions{User: labUser, Password: labPass})
	kinds := []struct{ name, proxy string }{
		{"direct", ""},
		{"socks5", "socks5://" + dante.Addr},
		{"socks5auth", fmt.Sprintf("socks5://%s:%s@%s", labUser, labPass, danteAuth.Addr)},
		{"socks4", "socks4://" + dante.Addr},
		{"connect", fmt.Sprintf("http://%s:%s@%s", labUser, labPass, tiny.Addr)},
	}
	type lane struct {
		d    *wininet.Dialer
		conn net.Conn
		br   *bufio.Reader
		lat  []time.Duration
	}
	lanes := make([]*lane, len(kinds))
	for i, k := range kinds {
		d, err := wininet.NewDialer(wininet.Config{Proxy: k.proxy, Resolver: &wininet.Resolver{Servers: []string{"127.0.0.1:1"}}})
		if err != nil {
			b.Fatal(err)
		}
		lanes[i] = &lane{d: d}
		if !dial {
			c, err := d.Dial("tcp", echo)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			lanes[i].conn, lanes[i].br = c, bufio.NewReader(c)
		}
	}
	line := []byte("MSG 4 N 133 MIME-Version: 1.0 Content-Type: text/plain; charset=UTF-8 X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=0 hello\r\n")
	b.ResetTimer()
	for i := range b.N {
		for j := range lanes {
			l := lanes[(i+j)%len(lanes)] // rotate who goes first
			t0 := time.Now()
			conn, br := l.conn, l.br
			if dial {
				c, err := l.d.Dial("tcp", echo)
				if err != nil {
					b.Fatal(err)
				}
				conn, br = c, bufio.NewReader(c)
			}
			if _, err := conn.Write(line); err != nil {
				b.Fatal(err)
			}
			if _, err := br.ReadString('\n'); err != nil {
				b.Fatal(err)
			}
			if dial {
				conn.Close()
			}
			l.lat = append(l.lat, time.Since(t0))
		}
	}
	b.StopTimer()
	pct := func(d []time.Duration, p int) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[(len(s)-1)*p/100]
	}
	base := pct(lanes[0].lat, 50)
	for i, k := range kinds {
		med := pct(lanes[i].lat, 50)
		b.ReportMetric(float64(med.Nanoseconds())/1e3, k.name+"-p50-us")
		b.ReportMetric(float64(pct(lanes[i].lat, 90).Nanoseconds())/1e3, k.name+"-p90-us")
		if i > 0 {
			b.ReportMetric(100*float64(med-base)/float64(base), k.name+"-vs-direct-%")
		}
	}
}

func startGatewayFor(tb testing.TB, ns string) string {
	srv := &gateway.Server{NSAddr: ns, Logf: tb.Logf}
	mux := http.NewServeMux()
	mux.Handle(gateway.Path, srv)
	hs := httptest.NewServer(mux)
	tb.Cleanup(func() { srv.Close(); hs.Close() })
	return hs.URL + gateway.Path
}

// pushBackend is an NS stand-in that echoes lines and, when told, pushes
// a line on its own (a message from a contact), recording when.
type pushBackend struct {
	addr string
	push chan chan time.Time
}

func startPushBackend(tb testing.TB) *pushBackend {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &pushBackend{addr: l.Addr().String(), push: make(chan chan time.Time)}
	var wg sync.WaitGroup
	done := make(chan struct{})
	tb.Cleanup(func() { close(done); l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var mu sync.Mutex
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReader(c)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				mu.Lock()
				c.Write([]byte(line))
				mu.Unlock()
			}
		}()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case at := <-p.push:
				mu.Lock()
				at <- time.Now()
				fmt.Fprintf(c, "MSG contact@lab Contact %d\r\n", i)
				mu.Unlock()
			}
		}
	}()
	return p
}

// measureDelivery opens a gateway session polling every interval and
// measures, n times, the time from a server-side push to its arrival.
func measureDelivery(tb testing.TB, interval time.Duration, n int) []time.Duration {
	be := startPushBackend(tb)
	u := startGatewayFor(tb, be.addr)
	conn, err := (&gateway.Dialer{URL: u, PollInterval: interval}).Dial(context.Background(), gateway.NS, "ns.lab")
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	conn.Write([]byte("VER 1 MSNP8 CVR0\r\n"))
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := br.ReadString('\n'); err != nil {
		tb.Fatal(err)
	}
	var lat []time.Duration
	for i := range n {
		// Push at a point spread over the poll cycle.
		time.Sleep(time.Duration(i*37%100) * interval / 100)
		at := make(chan time.Time, 1)
		be.push <- at
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := br.ReadString('\n'); err != nil {
			tb.Fatal(err)
		}
		lat = append(lat, time.Since(<-at))
	}
	return lat
}

// BenchmarkGatewayDelivery reports the delay from a server push to the
// device, for several poll intervals (mean and max, in ms).
//
//	go test -run XXX -bench GatewayDelivery -benchtime 20x ./feature/wininet/
func BenchmarkGatewayDelivery(b *testing.B) {
	for _, iv := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond, 2 * time.Second} {
		b.Run(fmt.Sprintf("poll=%v", iv), func(b *testing.B) {
			lat := measureDelivery(b, iv, b.N)
			var sum time.Duration
			for _, l := range lat {
				sum += l
			}
			b.ReportMetric(float64(sum.Milliseconds())/float64(len(lat)), "mean-ms")
			b.ReportMetric(float64(slices.Max(lat).Milliseconds()), "max-ms")
			b.ReportMetric(float64(iv.Milliseconds()), "poll-ms")
		})
	}
}

// TestGatewayDeliveryWithinPollInterval: a pushed message reaches the
// device within one poll interval (plus a margin for a loaded machine).
func TestGatewayDeliveryWithinPollInterval(t *testing.T) {
	const interval = 300 * time.Millisecond
	lat := measureDelivery(t, interval, 8)
	if m := slices.Max(lat); m > interval+700*time.Millisecond {
		t.Errorf("max delivery latency = %v, want <= poll interval %v (+700 ms margin); all: %v", m, interval, lat)
	}
}

//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"github.com/oemkit/messenger/internal/testenv"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
	"github.com/oemkit/messenger/msmsgs/client"
)

// End-to-end tests of msmsgs through real proxy servers (dante-server for
// SOCKS4/SOCKS5, tinyproxy for HTTP CONNECT and the MSN HTTP gateway):
// messengerd on loopback, two msmsgs daemons, sign-in and an acknowledged
// message each way. proxytest skips with the Debian package to install
// when danted or tinyproxy is missing.

const pxProxyUser, pxProxyPass = "msnlab", "Sx9-proxy-pw"

// pxAccounts returns two account names and passwords unique to name.
func pxAccounts(name string) (a, pa, b, pb string) {
	return name + "-a@example.com", name + "-a-Pw1", name + "-b@example.com", name + "-b-Pw2"
}

// pxPort returns the port of a host:port.
func pxPort(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("split %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return n
}

// pxConnectionsTo counts established TCP connections to 127.0.0.1:port in
// this network namespace (from /proc/net/tcp). It proves a daemon really
// talks through the proxy, since only the daemons dial the proxies.
func pxConnectionsTo(t testing.TB, port int) int {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatalf("read /proc/net/tcp: %v", err)
	}
	defer f.Close()
	want := fmt.Sprintf("0100007F:%04X", port)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		// sl local_address rem_address st ...; st 01 = ESTABLISHED.
		if len(fs) > 3 && fs[2] == want && fs[3] == "01" {
			n++
		}
	}
	return n
}

// pxExchange signs both daemons in and sends an acknowledged message each
// way (ctl send exits 0 only on ACK).
func pxExchange(t testing.TB, ctx context.Context, a, accA, b, accB string) {
	t.Helper()
	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")
	seq := lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "send", accB, "through the proxy")
	e := waitFor(t, ctx, b, seq, "message", "account="+accA)
	if e.Text != "through the proxy" {
		t.Errorf("%s got %q, want %q", accB, e.Text, "through the proxy")
	}
	seq = lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "send", accA, "and back, caf\u00e9")
	e = waitFor(t, ctx, a, seq, "message", "account="+accB)
	if e.Text != "and back, caf\u00e9" {
		t.Errorf("%s got %q, want %q", accA, e.Text, "and back, caf\u00e9")
	}
}

func TestProxyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd and proxy servers)")
	}
	// proxyFor starts the proxy and returns the daemons' flags (nil: direct),
	// the proxy's port and its log file.
	type proxyFor func(t *testing.T, l *lab) (flagsA, flagsB []string, port int, log string)
	socks := func(scheme string, o proxytest.DanteOptions) proxyFor {
		return func(t *testing.T, l *lab) ([]string, []string, int, string) {
			if o.User != "" {
				if why := proxytest.DanteAuthUnavailable(); why != "" {
					testenv.Missing(t, "%s", why)
				}
			}
			s := proxytest.StartDante(t, o)
			u := scheme + "://" + s.Addr
			if o.User != "" {
				u = scheme + "://" + o.User + ":" + o.Password + "@" + s.Addr
			}
			return []string{"-proxy", u}, nil, pxPort(t, s.Addr), s.Log
		}
	}
	tests := []struct {
		name  string
		setup proxyFor
		// log, when set, must appear in the proxy's log (tinyproxy logs requests).
		log func(l *lab) string
	}{
		{name: "dante socks4", setup: socks("socks4", proxytest.DanteOptions{})},
		{name: "dante socks4a", setup: socks("socks4a", proxytest.DanteOptions{})},
		{name: "dante socks5", setup: func(t *testing.T, l *lab) ([]string, []string, int, string) {
			// Both daemons through the same proxy.
			s := proxytest.StartDante(t, proxytest.DanteOptions{})
			f := []string{"-proxy", "socks5://" + s.Addr}
			return f, f, pxPort(t, s.Addr), s.Log
		}},
		{name: "dante socks5 auth", setup: socks("socks5", proxytest.DanteOptions{User: pxProxyUser, Password: pxProxyPass})},
		{name: "tinyproxy gateway", setup: func(t *testing.T, l *lab) ([]string, []string, int, string) {
			// The proxy allows CONNECT only to Passport's HTTPS port; both
			// daemons use the MSN HTTP gateway through it.
			s := proxytest.StartTinyproxy(t, proxytest.TinyOptions{ConnectPorts: []int{pxPort(t, l.r.HTTPS)}})
			f := []string{"-proxy", "http://" + s.Addr, "-proxy-mode", "gateway", "-gateway", "http://" + l.r.HTTP + gateway.Path}
			return f, f, pxPort(t, s.Addr), s.Log
		}, log: func(l *lab) string { return "POST http://" + l.r.HTTP + gateway.Path }},
		{name: "tinyproxy connect auto", setup: func(t *testing.T, l *lab) ([]string, []string, int, string) {
			// CONNECT allowed to every port: auto mode tunnels MSNP in CONNECT.
			s := proxytest.StartTinyproxy(t, proxytest.TinyOptions{})
			return []string{"-proxy", "http://" + s.Addr, "-proxy-mode", "auto"}, nil, pxPort(t, s.Addr), s.Log
		}, log: func(l *lab) string { return "CONNECT " + l.r.Addr }},
	}
	// One messengerd (with the HTTP gateway) for all cases; each case has
	// its own accounts.
	users := map[string]string{}
	for _, tt := range tests {
		a, pa, b, pb := pxAccounts(strings.ReplaceAll(tt.name, " ", "-"))
		users[a], users[b] = pa, pb
	}
	l := newLab(t, users, "-http", "127.0.0.1:0")
	if l.r.HTTP == "" {
		t.Fatal("messengerd -http printed no http address in its ready line")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			fa, fb, port, logPath := tt.setup(t, l)
			accA, pa, accB, pb := pxAccounts(strings.ReplaceAll(tt.name, " ", "-"))
			a := daemon(t, ctx, l, accA, pa, fa...)
			b := daemon(t, ctx, l, accB, pb, fb...)
			pxExchange(t, ctx, a, accA, b, accB)
			if tt.log == nil {
				// SOCKS: the notification and switchboard connections of
				// the daemon(s) through the proxy stay open to it.
				want := 1
				if fb != nil {
					want = 2
				}
				if got := pxConnectionsTo(t, port); got < want {
					t.Errorf("established connections to the proxy (port %d) = %d, want at least %d", port, got, want)
				}
				return
			}
			// HTTP: tinyproxy logs each request it forwards.
			tlog, err := os.ReadFile(logPath)
			if err != nil {
				t.Fatalf("read tinyproxy log: %v", err)
			}
			if want := tt.log(l); !strings.Contains(string(tlog), want) {
				t.Errorf("tinyproxy log has no %q: the daemons did not go through the proxy\n%s", want, tlog)
			}
		})
	}
}

func TestProxyFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd and proxy servers)")
	}
	const acc, pw = "proxyfail@example.com", "Fw3-account-pw"
	l := newLab(t, map[string]string{acc: pw})
	tests := []struct {
		name  string
		flags func(t *testing.T) []string
		want  []string // all must appear in the wait-signin error
	}{
		{"wrong proxy password", func(t *testing.T) []string {
			if why := proxytest.DanteAuthUnavailable(); why != "" {
				testenv.Missing(t, "%s", why)
			}
			s := proxytest.StartDante(t, proxytest.DanteOptions{User: pxProxyUser, Password: pxProxyPass})
			return []string{"-proxy", "socks5://" + pxProxyUser + ":Wr0ng-proxy-pw@" + s.Addr}
		}, []string{"proxy authentication failed", "wrong user name or password", "Options > Connection"}},
		{"socks5 without credentials", func(t *testing.T) []string {
			if why := proxytest.DanteAuthUnavailable(); why != "" {
				testenv.Missing(t, "%s", why)
			}
			s := proxytest.StartDante(t, proxytest.DanteOptions{User: pxProxyUser, Password: pxProxyPass})
			return []string{"-proxy", "socks5://" + s.Addr}
		}, []string{"proxy authentication failed", "user name and password"}},
		{"socks5 proxy down", func(t *testing.T) []string {
			return []string{"-proxy", "socks5://" + proxytest.ClosedAddr(t)}
		}, []string{"proxy unreachable"}},
		{"http proxy down", func(t *testing.T) []string {
			return []string{"-proxy", "http://" + proxytest.ClosedAddr(t), "-proxy-mode", "connect"}
		}, []string{"proxy unreachable"}},
		{"socks5 refuses destination", func(t *testing.T) []string {
			s := proxytest.StartDante(t, proxytest.DanteOptions{BlockPort: pxPort(t, l.r.Addr)})
			return []string{"-proxy", "socks5://" + s.Addr}
		}, []string{"proxy refused the destination", l.r.Addr}},
		{"socks4 refuses destination", func(t *testing.T) []string {
			s := proxytest.StartDante(t, proxytest.DanteOptions{BlockPort: pxPort(t, l.r.Addr)})
			return []string{"-proxy", "socks4://" + s.Addr}
		}, []string{"proxy refused the destination", l.r.Addr}},
		{"http connect refused", func(t *testing.T) []string {
			s := proxytest.StartTinyproxy(t, proxytest.TinyOptions{ConnectPorts: []int{pxPort(t, l.r.HTTPS)}})
			return []string{"-proxy", "http://" + s.Addr, "-proxy-mode", "connect"}
		}, []string{"proxy refused the destination", "HTTP gateway"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The daemons never sign in, so they can share the account;
			// in parallel the cases take one wait-signin timeout in all.
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			flags := tt.flags(t)
			sock := daemon(t, ctx, l, acc, pw, flags...)
			_, err := ctl(ctx, sock, "wait-signin", "-timeout", "5s")
			if err == nil {
				t.Fatalf("wait-signin through %v succeeded, want an error containing %q", flags, tt.want)
			}
			t.Logf("wait-signin: %v", err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("wait-signin error = %q, want it to contain %q", err, w)
				}
			}
			for _, secret := range []string{pw, pxProxyPass, "Wr0ng-proxy-pw"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("wait-signin error %q contains a password", err)
				}
			}
			// The same reason is in the daemon's status.
			var in client.Info
			if err := json.Unmarshal([]byte(mustCtl(t, ctx, sock, "status")), &in); err != nil {
				t.Fatal(err)
			}
			if in.State == client.StateSignedIn || !strings.Contains(in.Error, tt.want[0]) {
				t.Errorf("status = %s (%q), want not signed in with %q", in.State, in.Error, tt.want[0])
			}
		})
	}
}

// pxDaemon runs a daemon like daemon() but can be stopped within a
// benchmark iteration.
func pxDaemon(tb testing.TB, ctx context.Context, l *lab, account, password string, extra ...string) (sock string, stop func(), logs *syncBuffer) {
	tb.Helper()
	dir, err := os.MkdirTemp("", "pxd-")
	if err != nil {
		tb.Fatal(err)
	}
	sock = filepath.Join(dir, "ctl.sock")
	args := append([]string{"daemon", "-server", l.r.Addr, "-account", account, "-ctl", sock,
		"-nexus", l.r.Nexus, "-ca", l.r.CA, "-reconnect-max", "400ms"}, extra...)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	logs = new(syncBuffer)
	go func() {
		done <- runEnv(ctx, args, strings.NewReader(""), io.Discard, logs, func(k string) string {
			if k == "MSMSGS_PASSWORD" {
				return password
			}
			return ""
		})
	}()
	stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("daemon %s: %v\n%s", account, err, logs.String())
			}
		case <-time.After(30 * time.Second):
			tb.Errorf("daemon %s did not stop", account)
		}
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock, stop, logs
		}
		select {
		case err := <-done:
			tb.Fatalf("daemon %s exited: %v\n%s", account, err, logs.String())
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatalf("daemon %s: no control socket within 30s", account)
		}
	}
}

// BenchmarkProxyKinds measures, interleaved in one run, for direct,
// SOCKS5 (dante), SOCKS4 (dante) and the MSN HTTP gateway (tinyproxy):
// sign-in (daemon start until signed in), and a message in an open
// conversation: until A's send is ACKed and until B's message event.
// Both daemons of a kind use the same path. Reported as median ms (and
// the slowest delivery); the first message of each sign-in, which opens
// the switchboard, is reported apart as open-ms.
//
//	go test ./msmsgs -run '^$' -bench BenchmarkProxyKinds -benchtime 20x
func BenchmarkProxyKinds(b *testing.B) {
	type kind struct {
		name                       string
		flags                      []string
		a, pa                      string // account A (restarted for each sign-in)
		bAcc                       string
		bSock                      string
		aSock                      string
		aStop                      func()
		aLog, bLog                 *syncBuffer
		signin, open, ack, deliver []time.Duration
	}
	kinds := []*kind{{name: "direct"}, {name: "socks5"}, {name: "socks4"}, {name: "gateway"}}
	users := map[string]string{}
	for _, k := range kinds {
		a, pa, bb, pb := pxAccounts("bench-" + k.name)
		k.a, k.pa, k.bAcc = a, pa, bb
		users[a], users[bb] = pa, pb
	}
	l := newLab(b, users, "-http", "127.0.0.1:0")
	dante := proxytest.StartDante(b, proxytest.DanteOptions{})
	tiny := proxytest.StartTinyproxy(b, proxytest.TinyOptions{ConnectPorts: []int{pxPort(b, l.r.HTTPS)}})
	b.Cleanup(func() {
		// Runs before the proxies stop: their output explains a failure.
		if b.Failed() {
			for _, f := range []string{dante.Log, tiny.Log, filepath.Join(filepath.Dir(tiny.Log), "tinyproxy.out")} {
				out, _ := os.ReadFile(f)
				b.Logf("%s (last 3000 bytes):\n%s", f, out[max(0, len(out)-3000):])
			}
		}
	})
	kinds[1].flags = []string{"-proxy", "socks5://" + dante.Addr}
	kinds[2].flags = []string{"-proxy", "socks4://" + dante.Addr}
	kinds[3].flags = []string{"-proxy", "http://" + tiny.Addr, "-proxy-mode", "gateway", "-gateway", "http://" + l.r.HTTP + gateway.Path}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, k := range kinds {
		_, _, _, pb := pxAccounts("bench-" + k.name)
		sock, stop, logs := pxDaemon(b, ctx, l, k.bAcc, pb, k.flags...)
		b.Cleanup(stop)
		k.bSock, k.bLog = sock, logs
		mustCtl(b, ctx, sock, "wait-signin", "-timeout", "60s")
	}
	b.Cleanup(func() {
		for _, k := range kinds {
			if k.aStop != nil {
				k.aStop()
			}
		}
	})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each round starts with another kind, so none always goes first.
		order := append(append([]*kind(nil), kinds[i%len(kinds):]...), kinds[:i%len(kinds)]...)
		for _, k := range order {
			if k.aStop != nil {
				k.aStop()
			}
			t0 := time.Now()
			k.aSock, k.aStop, k.aLog = pxDaemon(b, ctx, l, k.a, k.pa, k.flags...)
			mustCtl(b, ctx, k.aSock, "wait-signin", "-timeout", "60s")
			k.signin = append(k.signin, time.Since(t0))
			// The first message opens the conversation (XFR, switchboard
			// connection, CAL/JOI); the measured message follows in it.
			t0 = time.Now()
			mustCtl(b, ctx, k.aSock, "send", k.bAcc, "open")
			k.open = append(k.open, time.Since(t0))
		}
		for _, k := range order {
			text := fmt.Sprintf("ping %d", i)
			seq := lastSeq(b, ctx, k.bSock)
			got := make(chan time.Time, 1)
			errc := make(chan error, 1)
			go func() {
				_, err := ctl(ctx, k.bSock, "wait", "-timeout", "30s", "-since", seq, "message", "account="+k.a, "text="+text)
				got <- time.Now()
				errc <- err
			}()
			t0 := time.Now()
			mustCtl(b, ctx, k.aSock, "send", k.bAcc, text)
			k.ack = append(k.ack, time.Since(t0))
			t1 := <-got
			if err := <-errc; err != nil {
				b.Fatalf("%s: %s did not get %q: %v\nA's log:\n%s\nB's log:\n%s", k.name, k.bAcc, text, err, pxTail(k.aLog.String()), pxTail(k.bLog.String()))
			}
			k.deliver = append(k.deliver, t1.Sub(t0))
		}
	}
	b.StopTimer()
	for _, k := range kinds {
		b.ReportMetric(pxMedianMS(k.signin), k.name+"-signin-ms")
		b.ReportMetric(pxMedianMS(k.open), k.name+"-open-ms")
		b.ReportMetric(pxMedianMS(k.ack), k.name+"-ack-ms")
		b.ReportMetric(pxMedianMS(k.deliver), k.name+"-deliver-ms")
		b.ReportMetric(pxMaxMS(k.deliver), k.name+"-deliver-max-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// pxTail returns the end of a log.
func pxTail(s string) string {
	return s[max(0, len(s)-4000):]
}

func pxMaxMS(ds []time.Duration) float64 {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return float64(m) / float64(time.Millisecond)
}

func pxMedianMS(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}

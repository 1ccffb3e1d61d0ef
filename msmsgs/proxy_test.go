package main

import (
	"context"
	"fmt"
	"github.com/oemkit/messenger/internal/testenv"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startProxy runs a proxy program until the test ends and waits until it
// accepts connections.
func startProxy(t *testing.T, port int, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening on %d: %v\n%s", name, port, err, out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling for the listener
	}
}

// talk signs two daemons in with the given extra flags for the first and
// checks presence and a message each way.
func talk(t *testing.T, l *lab, extra ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const p1, p2 = "pia@example.com", "quinn@example.com"
	a := daemon(t, ctx, l, p1, "pia-Pw1", extra...)
	b := daemon(t, ctx, l, p2, "quinn-Pw2")
	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, a, "add", p2)
	seq := lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "status", "set", "lunch")
	waitFor(t, ctx, a, seq, "presence", "account="+p2, "status=LUN")
	seq = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "send", p2, "via proxy")
	waitFor(t, ctx, b, seq, "message", "account="+p1, "text=via proxy")
	seq = lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "send", p1, "reply")
	waitFor(t, ctx, a, seq, "message", "account="+p2, "text=reply")
}

func proxyUsers() map[string]string {
	return map[string]string{"pia@example.com": "pia-Pw1", "quinn@example.com": "quinn-Pw2"}
}

func TestSOCKS5Proxy(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	bin := testenv.Tool(t, "microsocks", "apt-get install microsocks")
	l := newLab(t, proxyUsers())
	port := freePort(t)
	startProxy(t, port, bin, "-i", "127.0.0.1", "-p", fmt.Sprint(port))
	talk(t, l, "-proxy", fmt.Sprintf("socks5://127.0.0.1:%d", port))
}

// TestHTTPProxyGateway uses tinyproxy, which allows CONNECT only to the
// Passport HTTPS port: the MSNP connections fall back to the MSN HTTP
// gateway served by messengerd.
func TestHTTPProxyGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	bin := testenv.Tool(t, "tinyproxy", "apt-get install tinyproxy")
	l := newLab(t, proxyUsers(), "-http", "127.0.0.1:0")
	if l.r.HTTP == "" {
		t.Fatal("messengerd printed no gateway (http) address; it must serve the HTTP gateway with -http")
	}
	resp, err := http.Post("http://"+l.r.HTTP+"/gateway/gateway.dll?Action=open&Server=NS&IP=127.0.0.1", "application/x-msn-messenger", strings.NewReader(""))
	if err != nil {
		t.Fatalf("HTTP gateway: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		t.Fatal("messengerd answers 404 on /gateway/gateway.dll: the HTTP gateway is not served")
	}
	_, httpsPort, _ := net.SplitHostPort(l.r.HTTPS)
	port := freePort(t)
	conf := filepath.Join(t.TempDir(), "tinyproxy.conf")
	if err := os.WriteFile(conf, []byte(strings.Join([]string{
		fmt.Sprintf("Port %d", port), "Listen 127.0.0.1", "Timeout 60", "Allow 127.0.0.1",
		"ConnectPort " + httpsPort, "LogLevel Info", ""}, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	startProxy(t, port, bin, "-d", "-c", conf)
	talk(t, l, "-proxy", fmt.Sprintf("http://127.0.0.1:%d", port),
		"-gateway", "http://"+l.r.HTTP+"/gateway/gateway.dll")
}

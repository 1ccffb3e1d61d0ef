package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/internal/labclient"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// TestMain lets the test binary act as messengerd in subprocesses (for the
// kill -9 test): MESSENGERD_TEST_ARGS holds the arguments, separated by \x1f.
func TestMain(m *testing.M) {
	if a := os.Getenv("MESSENGERD_TEST_ARGS"); a != "" {
		os.Args = append([]string{"messengerd"}, strings.Split(a, "\x1f")...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func addUser(t *testing.T, dir, email, password string) {
	t.Helper()
	var out strings.Builder
	if err := run(context.Background(), []string{"user", "add", "-data", dir, email}, strings.NewReader(password+"\n"), &out, io.Discard); err != nil {
		t.Fatalf("user add %s: %v", email, err)
	}
	if !strings.Contains(out.String(), "added "+email) {
		t.Errorf("user add output = %q", out.String())
	}
}

func httpClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	return &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestUsage(t *testing.T) {
	var ue usageError
	for _, args := range [][]string{nil, {"bogus"}, {"user"}, {"user", "add", "-data", t.TempDir()}, {"serve", "-nope"}, {"serve", "extra"}} {
		if err := run(context.Background(), args, strings.NewReader(""), io.Discard, io.Discard); !errors.As(err, &ue) {
			t.Errorf("run(%q) = %v, want usage error", args, err)
		}
	}
	dir := t.TempDir()
	err := run(context.Background(), []string{"user", "add", "-data", dir, "a@lab.test"}, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("user add without password = %v, want a hint about standard input", err)
	}
	addUser(t, dir, "a@lab.test", "pw")
	err = run(context.Background(), []string{"user", "add", "-data", dir, "a@lab.test"}, strings.NewReader("x\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "passwd") {
		t.Errorf("user add twice = %v, want a hint to use passwd", err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"user", "list", "-data", dir}, nil, &out, io.Discard); err != nil || out.String() != "a@lab.test\n" {
		t.Errorf("user list = %q, %v", out.String(), err)
	}
}

// TestServeInProcess starts serve with free ports, reads its JSON line and
// signs in through the nexus it names, trusting only the ca.pem it wrote.
func TestServeInProcess(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "alice@lab.test", "secret")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-data", dir, "-addr", "127.0.0.1:0", "-https", "127.0.0.1:0", "-http", "127.0.0.1:0", "-guest-addr", "127.0.0.1:0"}, nil, pw, io.Discard)
		pw.Close()
	}()
	var r ready
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading ready line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if r.CA != filepath.Join(dir, "ca.pem") || !strings.HasPrefix(r.Nexus, "https://127.0.0.1:") || r.HTTP == "" {
		t.Errorf("ready = %+v", r)
	}
	hc := httpClient(t, r.CA)
	c, err := labclient.SignIn(ctx, hc, r.Addr, r.Nexus, "alice@lab.test", "secret")
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	defer c.Close()
	// Host clients get switchboards on the address they used; clients on
	// the guest listener get them at 10.0.2.2, where QEMU guests reach the host.
	if xfr := must(c.Call("XFR", "SB")); !strings.HasPrefix(xfr.Arg(1), "127.0.0.1:") {
		t.Errorf("XFR SB on -addr = %v, want a 127.0.0.1 address", xfr)
	}
	addUser(t, dir, "guest@lab.test", "secret")
	g, err := labclient.SignIn(ctx, hc, r.Guest, r.Nexus, "guest@lab.test", "secret")
	if err != nil {
		t.Fatalf("SignIn on -guest-addr: %v", err)
	}
	defer g.Close()
	_, gport, _ := net.SplitHostPort(r.Guest)
	if xfr := must(g.Call("XFR", "SB")); xfr.Arg(1) != "10.0.2.2:"+gport {
		t.Errorf("XFR SB on -guest-addr = %v, want 10.0.2.2:%s", xfr, gport)
	}
	res, err := http.Get("http://" + r.HTTP + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("GET /healthz = %v, %v", res, err)
	} else {
		res.Body.Close()
	}
	// The gateway reaches the service's MSNP listeners, as clients name
	// them (the guest's 10.0.2.2 included), and no other port of the host
	// (here the HTTPS listener).
	_, httpsPort, _ := net.SplitHostPort(r.HTTPS)
	for _, tc := range []struct {
		ip   string
		code int
	}{
		{r.Addr, 200}, {"10.0.2.2:" + gport, 200}, {r.Guest, 200},
		{"127.0.0.1:" + httpsPort, http.StatusForbidden}, {"10.0.2.2:" + httpsPort, http.StatusForbidden},
	} {
		req, _ := http.NewRequest("POST", "http://"+r.HTTP+"/gateway/gateway.dll?Action=open&Server=SB&IP="+tc.ip, strings.NewReader("USR 1 alice@lab.test 1.2.3\r\n"))
		if strings.HasPrefix(tc.ip, "10.0.2.2:") {
			req.Host = "10.0.2.2:80" // as a QEMU guest reaches the gateway
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code {
			t.Errorf("gateway open SB IP=%s = %d %q, want %d", tc.ip, res.StatusCode, body, tc.code)
		}
		if tc.code == 200 && !strings.HasPrefix(string(body), "911 1") {
			t.Errorf("gateway open SB IP=%s answered %q, want the switchboard's 911 for a made-up cookie", tc.ip, body)
		}
	}
	// An untrusted client fails the TLS handshake.
	if _, err := labclient.Passport(ctx, &http.Client{Timeout: 10 * time.Second}, r.Nexus, "alice@lab.test", "secret", ""); err == nil {
		t.Errorf("login without the lab CA succeeded")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop")
	}
	if out := must(c.Expect("OUT", msnp.NoTrID)); out.Arg(0) != "SSD" {
		t.Errorf("client got %v on shutdown, want OUT SSD", out)
	}
}

func must(c msnp.Command, err error) msnp.Command {
	if err != nil {
		panic(err)
	}
	return c
}

type proc struct {
	cmd *exec.Cmd
	r   ready
}

func startServe(t *testing.T, dir string) *proc {
	t.Helper()
	args := []string{"serve", "-data", dir, "-addr", "127.0.0.1:0", "-https", "127.0.0.1:0"}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "MESSENGERD_TEST_ARGS="+strings.Join(args, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p := &proc{cmd: cmd}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("messengerd serve printed no ready line: %v", err)
	}
	if err := json.Unmarshal([]byte(line), &p.r); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out)
	return p
}

// TestKill9KeepsState: accounts and lists survive kill -9 of the service.
func TestKill9KeepsState(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "alice@lab.test", "secret")
	addUser(t, dir, "bob@lab.test", "secret")
	p := startServe(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	hc := httpClient(t, p.r.CA)
	c, err := labclient.SignIn(ctx, hc, p.r.Addr, p.r.Nexus, "alice@lab.test", "secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{{"ADD", "FL", "bob@lab.test", "Bob", "0"}, {"ADD", "BL", "bob@lab.test", "Bob"}, {"BLP", "BL"}} {
		if _, err := c.Call(cmd[0], cmd[1:]...); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	c.Close()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()

	p = startServe(t, dir)
	hc = httpClient(t, p.r.CA)
	c, err = labclient.SignIn(ctx, hc, p.r.Addr, p.r.Nexus, "alice@lab.test", "secret")
	if err != nil {
		t.Fatalf("sign-in after kill -9: %v", err)
	}
	defer c.Close()
	syn, err := c.Call("SYN", "0")
	if err != nil || syn.Arg(1) != "1" {
		t.Fatalf("SYN after kill -9 = %v, %v, want 1 contact", syn, err)
	}
	blp, _ := c.Expect("BLP", msnp.NoTrID)
	lst, _ := c.Expect("LST", msnp.NoTrID)
	if blp.Arg(0) != "BL" || strings.Join(lst.Args, " ") != "bob@lab.test Bob 5 0" {
		t.Errorf("after kill -9: BLP %v, LST %v", blp, lst)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
)

// The integration tests run the real messengerd (built from ../messengerd)
// and drive msmsgs daemons only through the ctl client code.

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildTool builds ../messengerd and this command once per test binary.
func buildTool(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "msmsgs-it-")
		if buildErr != nil {
			return
		}
		root, err := filepath.Abs("..")
		if err != nil {
			buildErr = err
			return
		}
		for _, pkg := range []string{"messengerd", "msmsgs"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, pkg), "./"+pkg)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build ./%s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return filepath.Join(buildDir, name)
}

// ready is messengerd's JSON ready line.
type ready struct {
	Login string `json:"login"` // plain-HTTP nexus with -lab-http-login
	Addr  string `json:"addr"`
	Guest string `json:"guest"` // listener for QEMU guests with -guest-addr
	NS    string `json:"ns"`    // notification server when split with -ns
	HTTPS string `json:"https"`
	HTTP  string `json:"http"` // MSN HTTP gateway with -http
	Nexus string `json:"nexus"`
	CA    string `json:"ca"`
}

type lab struct {
	t     testing.TB
	extra []string // more serve flags
	bin   string
	data  string
	cmd   *exec.Cmd
	r     ready
}

func addUser(t testing.TB, bin, data, email, pw string) {
	t.Helper()
	cmd := exec.Command(bin, "user", "add", "-data", data, email)
	cmd.Stdin = strings.NewReader(pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("messengerd user add %s: %v\n%s", email, err, out)
	}
}

// start runs messengerd serve on addr and https (":0" ports pick free ones).
func (l *lab) start(addr, https string) {
	l.t.Helper()
	cmd := exec.Command(l.bin, append([]string{"serve", "-data", l.data, "-addr", addr, "-https", https}, l.extra...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		l.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		l.t.Fatalf("start messengerd: %v", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			_ = cmd.Wait()
			l.t.Fatalf("messengerd exited before it was ready: %s", stderr.String())
		}
		if err := json.Unmarshal([]byte(line), &l.r); err != nil {
			l.t.Fatalf("messengerd ready line %q: %v", line, err)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		l.t.Fatalf("messengerd not ready within 60s: %s", stderr.String())
	}
	l.cmd = cmd
}

// kill stops messengerd abruptly (SIGKILL), as a crash would.
func (l *lab) kill() {
	if l.cmd != nil {
		_ = l.cmd.Process.Signal(syscall.SIGKILL)
		_ = l.cmd.Wait()
		l.cmd = nil
	}
}

func newLab(t testing.TB, users map[string]string, extra ...string) *lab {
	t.Helper()
	l := &lab{t: t, bin: buildTool(t, "messengerd"), data: t.TempDir(), extra: extra}
	for u, pw := range users {
		addUser(t, l.bin, l.data, u, pw)
	}
	l.start("127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(l.kill)
	return l
}

// daemon runs `msmsgs daemon` in-process and returns its control socket.
func daemon(t testing.TB, ctx context.Context, l *lab, account, password string, extra ...string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	args := []string{"daemon", "-server", l.r.Addr, "-account", account, "-ctl", sock, "-reconnect-max", "400ms"}
	hasNexus := false
	for _, a := range extra {
		hasNexus = hasNexus || a == "-nexus"
	}
	if !hasNexus {
		args = append(args, "-nexus", l.r.Nexus)
	}
	args = append(args, extra...)
	hasCA := false
	for _, a := range extra {
		hasCA = hasCA || a == "-ca"
	}
	if !hasCA {
		args = append(args, "-ca", l.r.CA)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- runEnv(ctx, args, strings.NewReader(""), io.Discard, &logs, func(k string) string {
			if k == "MSMSGS_PASSWORD" {
				return password
			}
			return ""
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon %s: %v", account, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("daemon %s did not stop", account)
		}
		if strings.Contains(logs.String(), password) {
			t.Errorf("daemon %s log contains the password", account)
		}
		if t.Failed() {
			t.Logf("daemon %s log:\n%s", account, logs.String())
		}
	})
	// The daemon creates the socket before signing in.
	return waitCtlSocket(t, account, sock, done, &logs)
}

// waitCtlSocket waits up to 30 s for a daemon's control socket, failing
// the test with the daemon's log when the daemon exits first (done).
func waitCtlSocket(t testing.TB, name, sock string, done <-chan error, logs *syncBuffer) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		select {
		case err := <-done:
			t.Fatalf("daemon %s exited: %v\n%s", name, err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon %s: no control socket within 30s", name)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ctl runs `msmsgs ctl -ctl sock args...` and returns its stdout.
func ctl(ctx context.Context, sock string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := runCtl(ctx, append([]string{"-ctl", sock}, args...), &out, &errb, func(string) string { return "" }, english())
	return out.String(), err
}

func mustCtl(t testing.TB, ctx context.Context, sock string, args ...string) string {
	t.Helper()
	out, err := ctl(ctx, sock, args...)
	if err != nil {
		t.Fatalf("msmsgs ctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// lastSeq returns the daemon's last event sequence number.
func lastSeq(t testing.TB, ctx context.Context, sock string) string {
	t.Helper()
	var in client.Info
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, sock, "status")), &in); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(in.LastSeq)
}

// waitFor waits for an event matching typ and filters after seq.
func waitFor(t testing.TB, ctx context.Context, sock, seq, typ string, filters ...string) client.Event {
	t.Helper()
	args := append([]string{"wait", "-timeout", "30s", "-since", seq, typ}, filters...)
	out := mustCtl(t, ctx, sock, args...)
	var e client.Event
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("wait output %q: %v", out, err)
	}
	return e
}

func contactStatus(t testing.TB, ctx context.Context, sock, account string) (string, []string) {
	t.Helper()
	var cs []client.Contact
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, sock, "contacts")), &cs); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Account == account {
			ls := make([]string, len(c.Lists))
			for i, l := range c.Lists {
				ls[i] = string(l)
			}
			return string(c.Status), ls
		}
	}
	return "", nil
}

func TestTwoDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const alice, bob = "alice@example.com", "bob@example.com"
	l := newLab(t, map[string]string{alice: "alice-pw,=&%", bob: "bob pw"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	a := daemon(t, ctx, l, alice, "alice-pw,=&%")
	b := daemon(t, ctx, l, bob, "bob pw")
	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")

	// They add each other; bob hears about it.
	seqB := lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "add", bob)
	waitFor(t, ctx, b, seqB, "added-by", "account="+alice)
	mustCtl(t, ctx, b, "add", alice)

	// Each sees the other go busy.
	seqA := lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "status", "set", "busy")
	waitFor(t, ctx, a, seqA, "presence", "account="+bob, "status=BSY")
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "status", "set", "busy")
	waitFor(t, ctx, b, seqB, "presence", "account="+alice, "status=BSY")
	if st, _ := contactStatus(t, ctx, a, bob); st != "BSY" {
		t.Errorf("alice's contact list: bob is %q, want BSY", st)
	}

	// A message each way, acknowledged (ctl send exits 0 only on ACK).
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "send", bob, "hello", "bob")
	e := waitFor(t, ctx, b, seqB, "message", "account="+alice)
	if e.Text != "hello bob" {
		t.Errorf("bob got %q, want hello bob", e.Text)
	}
	seqA = lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "send", alice, "hi alice, caf\u00e9")
	e = waitFor(t, ctx, a, seqA, "message", "account="+bob)
	if e.Text != "hi alice, caf\u00e9" {
		t.Errorf("alice got %q, want hi alice, caf\u00e9", e.Text)
	}

	// Typing notification in the open conversation.
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "typing", bob)
	waitFor(t, ctx, b, seqB, "typing", "account="+alice)

	// Block: bob sees alice offline. Unblock: bob sees her busy again.
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "block", bob)
	waitFor(t, ctx, b, seqB, "presence", "account="+alice, "status=FLN")
	if _, lists := contactStatus(t, ctx, a, bob); !strings.Contains(strings.Join(lists, ","), "BL") || strings.Contains(strings.Join(lists, ","), "AL") {
		t.Errorf("alice's lists for bob = %v, want BL and not AL", lists)
	}
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "unblock", bob)
	waitFor(t, ctx, b, seqB, "presence", "account="+alice, "status=BSY")

	// messengerd dies mid-conversation: both report it; a message sent
	// meanwhile is reported undelivered (ctl send fails); they come back
	// when messengerd restarts on the same ports with its data intact.
	addr, https := l.r.Addr, l.r.HTTPS
	seqA = lastSeq(t, ctx, a)
	l.kill()
	waitFor(t, ctx, a, seqA, "disconnected")
	if _, err := ctl(ctx, a, "send", bob, "are you there?"); err == nil {
		t.Errorf("ctl send with messengerd down succeeded, want failure")
	}
	waitFor(t, ctx, a, seqA, "undelivered", "text=are you there?")
	seqA = lastSeq(t, ctx, a)
	seqB = lastSeq(t, ctx, b)
	l.start(addr, https)
	waitFor(t, ctx, a, seqA, "signed-in")
	waitFor(t, ctx, b, seqB, "signed-in")
	mustCtl(t, ctx, a, "wait-signin")
	if _, lists := contactStatus(t, ctx, a, bob); !strings.Contains(strings.Join(lists, ","), "FL") {
		t.Errorf("after restart alice's lists for bob = %v, want FL (contact list lost?)", lists)
	}
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "send", bob, "back again")
	waitFor(t, ctx, b, seqB, "message", "account="+alice, "text=back again")
}

func TestSignInErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const carol = "carol@example.com"
	l := newLab(t, map[string]string{carol: "Kx7-right-pw"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	otherCA := filepath.Join(t.TempDir(), "other-ca.pem")
	if err := os.WriteFile(otherCA, []byte(unrelatedCA), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, password string
		extra          []string
		want           string
	}{
		{"wrong password", "Zq8-bad-pw", nil, "wrong account name or password"},
		{"untrusted certificate", "Kx7-right-pw", []string{"-ca", otherCA}, "not trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := daemon(t, ctx, l, carol, tt.password, tt.extra...)
			_, err := ctl(ctx, sock, "wait-signin", "-timeout", "3s")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("wait-signin error = %v, want one containing %q", err, tt.want)
			}
			if n := strings.Count(err.Error(), "sign-in refused"); n > 1 {
				t.Errorf("error %q says \"sign-in refused\" %d times, want at most once", err, n)
			}
			if strings.Contains(err.Error(), tt.password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// unrelatedCA is a self-signed CA that did not sign messengerd's certificate.
var unrelatedCA = func() string {
	b, err := os.ReadFile("testdata/unrelated-ca.pem")
	if err != nil {
		return ""
	}
	return string(b)
}()

var _ = errors.New

func TestMultiParty(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	users := map[string]string{"ann@example.com": "ann-Pw1", "ben@example.com": "ben-Pw2", "cat@example.com": "cat-Pw3"}
	l := newLab(t, users)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	socks := map[string]string{}
	for u, pw := range users {
		socks[u] = daemon(t, ctx, l, u, pw)
	}
	for u := range users {
		mustCtl(t, ctx, socks[u], "wait-signin", "-timeout", "60s")
	}
	ann, ben, cat := socks["ann@example.com"], socks["ben@example.com"], socks["cat@example.com"]
	mustCtl(t, ctx, ann, "send", "ben@example.com", "just us")
	var convs []client.ConversationInfo
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, ann, "conversations")), &convs); err != nil || len(convs) != 1 {
		t.Fatalf("ann's conversations = %v, %v, want one", convs, err)
	}
	id := convs[0].ID
	seqC := lastSeq(t, ctx, cat)
	mustCtl(t, ctx, ann, "invite", id, "cat@example.com")
	seqB := lastSeq(t, ctx, ben)
	mustCtl(t, ctx, ann, "sendto", id, "hello both")
	waitFor(t, ctx, ben, seqB, "message", "account=ann@example.com", "text=hello both")
	e := waitFor(t, ctx, cat, seqC, "message", "account=ann@example.com", "text=hello both")
	// Cat answers in the same conversation; both others hear it.
	seqA := lastSeq(t, ctx, ann)
	seqB = lastSeq(t, ctx, ben)
	mustCtl(t, ctx, cat, "sendto", e.Conversation, "hi all")
	waitFor(t, ctx, ann, seqA, "message", "account=cat@example.com", "text=hi all")
	waitFor(t, ctx, ben, seqB, "message", "account=cat@example.com", "text=hi all")
	// Cat leaves: the others see it.
	seqA = lastSeq(t, ctx, ann)
	mustCtl(t, ctx, cat, "leave", e.Conversation)
	waitFor(t, ctx, ann, seqA, "left", "account=cat@example.com")
}

func TestSignedInElsewhere(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const fay = "fay@example.com"
	l := newLab(t, map[string]string{fay: "fay-Pw1"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	first := daemon(t, ctx, l, fay, "fay-Pw1")
	mustCtl(t, ctx, first, "wait-signin", "-timeout", "60s")
	seq := lastSeq(t, ctx, first)
	second := daemon(t, ctx, l, fay, "fay-Pw1")
	mustCtl(t, ctx, second, "wait-signin", "-timeout", "60s")
	waitFor(t, ctx, first, seq, "disconnected", "reason=OTH")
	var in client.Info
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, first, "status")), &in); err != nil {
		t.Fatal(err)
	}
	if in.State != client.StateStopped || !strings.Contains(in.Error, "somewhere else") {
		t.Errorf("first daemon state = %s (%q), want stopped: signed in somewhere else", in.State, in.Error)
	}
}

func TestPlainHTTPLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const gil = "gil@example.com"
	l := newLab(t, map[string]string{gil: "gil-Pw1"}, "-http", "127.0.0.1:0", "-lab-http-login")
	if !strings.HasPrefix(l.r.Login, "http://") {
		t.Fatalf("messengerd printed no plain-HTTP login URL with -lab-http-login (login=%q)", l.r.Login)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	refused := daemon(t, ctx, l, gil, "gil-Pw1", "-nexus", l.r.Login)
	if _, err := ctl(ctx, refused, "wait-signin", "-timeout", "3s"); err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Errorf("plain-HTTP sign-in without -insecure-http: error = %v, want refusal", err)
	}
	allowed := daemon(t, ctx, l, gil, "gil-Pw1", "-nexus", l.r.Login, "-insecure-http")
	mustCtl(t, ctx, allowed, "wait-signin", "-timeout", "60s")
}

func TestDispatchRedirect(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const hal = "hal@example.com"
	l := newLab(t, map[string]string{hal: "hal-Pw1"}, "-ns", "127.0.0.1:0")
	if l.r.NS == "" || l.r.NS == l.r.Addr {
		t.Fatalf("messengerd -ns: notification server %q, want one apart from dispatch %q", l.r.NS, l.r.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := daemon(t, ctx, l, hal, "hal-Pw1")
	mustCtl(t, ctx, s, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, s, "status", "set", "away")
}

func TestChallenges(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const ivy = "ivy@example.com"
	l := newLab(t, map[string]string{ivy: "ivy-Pw1"}, "-challenge-interval", "100ms")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := daemon(t, ctx, l, ivy, "ivy-Pw1", "-keepalive", "150ms")
	mustCtl(t, ctx, s, "wait-signin", "-timeout", "60s")
	seq := lastSeq(t, ctx, s)
	// Over 1.5 s messengerd sends about 15 CHL challenges and the client
	// about 10 PNGs; a wrong QRY answer or a missed QNG would end the
	// session (a disconnected event).
	if out, err := ctl(ctx, s, "wait", "-timeout", "1500ms", "-since", seq, "disconnected"); err == nil {
		t.Fatalf("session ended under challenges and keepalives: %s", out)
	}
	mustCtl(t, ctx, s, "status", "set", "phone")
	var in client.Info
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, s, "status")), &in); err != nil || in.Status != "PHN" || in.State != client.StateSignedIn {
		t.Errorf("status = %+v, %v, want signed-in PHN", in, err)
	}
}

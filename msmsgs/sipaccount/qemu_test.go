package sipaccount_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/feature/timesvc"
	"github.com/oemkit/messenger/feature/timesvc/timesvctest"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/messengerd/sip"
	"github.com/oemkit/messenger/msmsgs/sipaccount"
	"github.com/oemkit/messenger/sysgen/cli"
)

// console keeps the guest's console and says when a line arrived.
type console struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
	at    []time.Time
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	for {
		i := bytes.IndexByte(c.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		c.lines = append(c.lines, string(c.buf.Next(i+1)))
		c.at = append(c.at, time.Now())
	}
}

func (c *console) find(s string) (string, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, l := range c.lines {
		if strings.Contains(l, s) {
			return strings.TrimSpace(l), c.at[i], true
		}
	}
	return "", time.Time{}, false
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "")
}

// gate relays NTP between the guest and chronyd once it is opened; until
// then the guest's requests go unanswered, so the device runs with its
// wrong clock for as long as the test wants.
type gate struct {
	pc   net.PacketConn
	to   string
	mu   sync.Mutex
	open bool
	ups  map[string]net.Conn
}

func startGate(t *testing.T, to string) *gate {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{pc: pc, to: to, ups: map[string]net.Conn{}}
	t.Cleanup(func() {
		pc.Close()
		g.mu.Lock()
		for _, c := range g.ups {
			c.Close()
		}
		g.mu.Unlock()
	})
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			g.mu.Lock()
			open, up := g.open, g.ups[from.String()]
			if open && up == nil {
				if up, err = net.Dial("udp", g.to); err == nil {
					g.ups[from.String()] = up
					go func(up net.Conn, from net.Addr) {
						b := make([]byte, 2048)
						for {
							n, err := up.Read(b)
							if err != nil {
								return
							}
							_, _ = pc.WriteTo(b[:n], from)
						}
					}(up, from)
				}
			}
			g.mu.Unlock()
			if open && up != nil {
				_, _ = up.Write(buf[:n])
			}
		}
	}()
	return g
}

func (g *gate) port() int { return g.pc.LocalAddr().(*net.UDPAddr).Port }

func (g *gate) openUp() {
	g.mu.Lock()
	g.open = true
	g.mu.Unlock()
}

// TestQEMUSignsInWithKerberos builds the Messenger image with a SIP
// account (and no .NET Messenger account), boots it under TCG with its
// hardware clock years behind (-rtc base=2020-01-01), and checks that the
// device sets its clock by SNTP from chronyd on the host and then signs in
// to the lab SIP service on the host with Kerberos from an MIT KDC on the
// host (both reached at 10.0.2.2): the server holds the device's
// registration and `msmsgs ctl status sip:` on the device says signed in.
// The NTP server is held back (a gate that drops its packets) until the
// device has tried to sign in with its wrong clock and said why it failed:
// the clock skew, measured, and the time service's state.
func TestQEMUSignsInWithKerberos(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and boots a real image; skipped in -short mode")
	}
	if _, err := os.Stat("/usr/bin/apt-get"); err != nil {
		testenv.Missing(t, "needs apt-get and dpkg-deb to fetch the Debian kernel (a Debian host)")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	ntp := timesvctest.StartChrony(t)
	ntpGate := startGate(t, ntp.Addr)
	realm := kdctest.Start(t)
	realm.AddUser(t, "alice", "alice-krb-pass")
	realm.AddUser(t, "bob", "bob-krb-pass")
	kt := realm.AddService(t, "sip/lab.test", "")
	srv, err := sip.New(sip.Config{Domain: "lab.test", Service: "sip/lab.test", Keytab: kt, Logf: func(f string, a ...any) { t.Logf("sip server: "+f, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	_, sipPort, _ := net.SplitHostPort(ln.Addr().String())
	_, kdcPort, _ := net.SplitHostPort(realm.KDC)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	design := filepath.Join(work, "osdesign.toml")
	ntpServer := fmt.Sprintf("10.0.2.2:%d", ntpGate.port())
	if err := os.WriteFile(design, []byte(fmt.Sprintf(`bsp = "qemu-x86_64"
[flags]
SYSGEN_MESSENGER = true
SYSGEN_SHELL = true
[settings]
"timesvc.server" = %q
"timesvc.poll_min" = "16s"
"sip.uri" = "sip:alice@lab.test"
"sip.server" = "10.0.2.2:%s"
"sip.password" = "alice-krb-pass"
"kerberos.realm" = %q
"kerberos.kdc" = "10.0.2.2:%s"
`, ntpServer, sipPort, realm.Name, kdcPort)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "img")
	var out, errb bytes.Buffer
	c := &cli.Context{Args: []string{"build", "--design", design, "-o", dir}, Dir: root, Stdout: &out, Stderr: &errb}
	start := time.Now()
	if err := c.Execute(ctx); err != nil {
		t.Fatalf("sysgen build --design %s: exit %d: %v\n%s", design, cli.Code(err), err, errb.String())
	}
	t.Logf("build: %v", time.Since(start).Round(time.Second))

	con := &console{}
	bootStart := time.Now()
	vm, err := qemu.Start(ctx, dir, qemu.Options{Console: con, ExtraArgs: []string{"-rtc", "base=2020-01-01T00:00:00"}})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Stop()
	defer func() {
		if t.Failed() {
			t.Logf("console:\n%s\nchronyd:\n%s", con.String(), ntp.Log())
		}
	}()
	if _, err := vm.WaitMarker(ctx, qemu.MarkerReady, 5*time.Minute); err != nil {
		t.Fatalf("device not ready: %v", err)
	}
	// The device tries to sign in with its clock in 2020.
	var skewLine string
	for deadline := time.Now().Add(4 * time.Minute); ; {
		if l, _, ok := con.find("reason=clock-skew"); ok {
			skewLine = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no clock-skew sign-in failure on the console within 4 minutes of ready (the device clock starts in 2020)")
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, want := range []string{"SIP server clock is", "days", "ahead of this one", "time service: "} {
		if !strings.Contains(skewLine, want) {
			t.Errorf("the device's clock skew error does not say %q: %s", want, skewLine)
		}
	}
	t.Logf("console (before the clock was set): %s", skewLine)
	opened := time.Now()
	ntpGate.openUp()
	clock, err := vm.WaitMarker(ctx, timesvc.Marker, 3*time.Minute)
	if err != nil {
		t.Fatalf("the device did not set its clock: %v", err)
	}
	var st timesvc.Status
	if err := json.Unmarshal([]byte(clock.Payload), &st); err != nil || !st.Synced || st.Server != ntpServer {
		t.Fatalf("%s %s: %v; want synced from %s", timesvc.Marker, clock.Payload, err, ntpServer)
	}
	// The shell answers after the ready line.
	if _, _, err := vm.Run(ctx, "true", 2*time.Minute); err != nil {
		t.Fatalf("shell: %v", err)
	}
	o, rc, err := vm.Run(ctx, "msmsgs ctl wait-signin -timeout 240s sip:", 5*time.Minute)
	if err != nil || rc != 0 {
		t.Fatalf("msmsgs ctl wait-signin sip: on the device: exit %d, %v: %s", rc, err, o)
	}
	signedIn := time.Now()
	o, rc, err = vm.Run(ctx, "msmsgs ctl status sip:", time.Minute)
	if err != nil || rc != 0 {
		t.Fatalf("msmsgs ctl status sip: exit %d, %v: %s", rc, err, o)
	}
	var in sipaccount.Info
	for _, line := range strings.Split(o, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, `{"account"`) {
			err = json.Unmarshal([]byte(line), &in)
		}
	}
	if err != nil || in.State != sipaccount.StateSignedIn || in.Account != "sip:alice@lab.test" || in.Enctype == "" {
		t.Fatalf("status sip: on the device = %+v (%v), want signed in\n%s", in, err, o)
	}
	if _, aors := srv.Registered(); !strings.Contains(strings.Join(aors, " "), "sip:alice@lab.test") {
		t.Errorf("the SIP server holds %v, want sip:alice@lab.test registered", aors)
	}
	// A message each way between the device and bob on the host.
	bob, err := sipua.Dial(ctx, sipua.Config{URI: "sip:bob@lab.test", Server: ln.Addr().String(),
		Kerberos: kerberos.Config{Realm: realm.Name, KDCs: []string{realm.KDC}, Password: "bob-krb-pass"}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if o, rc, err := vm.Run(ctx, "msmsgs ctl send sip:bob@lab.test hello from the device", time.Minute); err != nil || rc != 0 {
		t.Errorf("msmsgs ctl send on the device: exit %d, %v: %s", rc, err, o)
	}
	select {
	case e := <-bob.Events():
		if e.Type != "message" || e.From != "sip:alice@lab.test" || e.Text != "hello from the device" {
			t.Errorf("bob got %+v, want the device's message", e)
		}
	case <-time.After(30 * time.Second):
		t.Error("bob got no message from the device")
	}
	if err := bob.SendMessage(ctx, "sip:alice@lab.test", "hello device"); err != nil {
		t.Errorf("bob -> the device: %v", err)
	}
	if o, rc, err := vm.Run(ctx, "msmsgs ctl wait -timeout 30s -since 0 message account=sip:bob@lab.test", time.Minute); err != nil || rc != 0 || !strings.Contains(o, "hello device") {
		t.Errorf("msmsgs ctl wait message on the device: exit %d, %v: %s", rc, err, o)
	}
	t.Logf("console: %s", func() string { l, _, _ := con.find("sip: signed in"); return l }())
	t.Logf("MEASURE boot offset corrected %v, SNTP check after the step %v, delay %v; SIP sign-in under TCG: AS %s, TGS+AP-REQ %s, REGISTER %s (%s); signed in %v after the NTP server was let through, %v after QEMU started",
		time.Duration(st.BootOffsetNS), time.Duration(st.VerifyOffsetNS), time.Duration(st.DelayNS),
		in.SignIn.AS, in.SignIn.TGS, in.SignIn.Register, in.Enctype, signedIn.Sub(opened).Round(time.Second), signedIn.Sub(bootStart).Round(time.Second))
}

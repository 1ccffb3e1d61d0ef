// Package demo runs the whole Messenger chain the way an OEM sees it: build
// the SYSGEN_MESSENGER image, start the lab service (messengerd) with two
// accounts, boot the device in QEMU, and have the device talk to a second
// Messenger client: presence both ways, a message each way, and a file from
// the device checked by hash.
//
// The device is driven only through its serial console (a shell typing
// `msmsgs ctl` commands, as a person or an OEM test rig would); the second
// client is an msmsgs daemon on the host driven through its control socket.
//
// Why one VM and one host client rather than two VMs: each QEMU guest on
// user networking sits behind its own NAT (both are 10.0.2.15), so two
// guests cannot open the direct TCP connection a file transfer needs; a
// guest can reach the host, and the host reaches the guest's transfer port
// through a QEMU port forward, which is how a device behind NAT works with
// a peer on the open network.
package demo

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
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/fsutil"
)

// Accounts used by the demo.
const (
	DeviceAccount = "alice@lab.test"
	HostAccount   = "bob@lab.test"
	devicePass    = "device pass 1"
	hostPass      = "host-pass-2"
)

// Options configure a run.
type Options struct {
	// Root is the project folder (holding go.mod).
	Root string
	// Work is where binaries, the lab data, the image and the logs go.
	Work string
	// BSP is the board, default qemu-x86_64.
	BSP string
	// Out receives progress lines.
	Out io.Writer
	// Timeout bounds the whole run; 0 means 10 minutes.
	Timeout time.Duration
	// Build builds the image for an OS design file into dir (sysgen build
	// --design FILE -o DIR); the sysgen CLI provides it.
	Build func(ctx context.Context, design, dir string) error
}

// Result is what the run measured.
type Result struct {
	// ToInit, ToReady and ToSignedIn are measured from QEMU's start.
	ToInit, ToReady, ToSignedIn time.Duration
	// Build is how long the image build took.
	Build time.Duration
	// FileSHA256 is the hash of the file that crossed, as received.
	FileSHA256 string
	// Logs is the folder with the console, service and client logs.
	Logs string
}

type run struct {
	o      Options
	bin    string
	logs   string
	lab    labInfo
	ctlBob string
	out    io.Writer
}

type labInfo struct {
	Addr  string `json:"addr"`
	Guest string `json:"guest"`
	HTTPS string `json:"https"`
	Nexus string `json:"nexus"`
	CA    string `json:"ca"`
}

func (r *run) step(format string, args ...any) {
	fmt.Fprintf(r.out, "demo: "+format+"\n", args...)
}

// Run runs the demo; a nil error means every check passed.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Minute
	}
	if o.BSP == "" {
		o.BSP = "qemu-x86_64"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	r := &run{o: o, bin: filepath.Join(o.Work, "bin"), logs: filepath.Join(o.Work, "logs"), out: o.Out}
	res := &Result{Logs: r.logs}
	for _, d := range []string{r.bin, r.logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return res, err
		}
	}
	if err := r.buildTools(ctx); err != nil {
		return res, err
	}
	stopLab, err := r.startLab(ctx)
	if err != nil {
		return res, err
	}
	defer stopLab()
	stopBob, err := r.startHostClient(ctx)
	if err != nil {
		return res, err
	}
	defer stopBob()

	imgDir := filepath.Join(o.Work, "image")
	start := time.Now()
	if err := r.buildImage(ctx, imgDir); err != nil {
		return res, err
	}
	res.Build = time.Since(start)
	r.step("image built in %.1fs: %s", res.Build.Seconds(), imgDir)

	dev, err := r.boot(ctx, imgDir)
	if err != nil {
		return res, err
	}
	if err := r.converse(ctx, dev, imgDir, res); err != nil {
		dev.stop()
		return res, err
	}
	res.ToInit, res.ToReady = dev.toInit, dev.toReady
	if err := r.powerCycle(ctx, dev, imgDir); err != nil {
		return res, err
	}
	return res, nil
}

// stateProbe is written under Messenger's state folder before a power cut.
const stateProbe = "/var/lib/msmsgs/demo-state.txt"

// powerCycle writes a file into msmsgs's state folder, cuts the power
// (kills QEMU), boots the same device again and checks that the file is
// still there (the state partition, SYSGEN_STATEFS) and msmsgs signs in.
func (r *run) powerCycle(ctx context.Context, d *device, imgDir string) error {
	stamp := fmt.Sprintf("state-%d", time.Now().UnixNano())
	if _, rc, err := d.sh(ctx, "echo "+stamp+" > "+stateProbe+" && sync", 30*time.Second); err != nil || rc != 0 {
		d.stop()
		return fmt.Errorf("demo: write %s on the device: exit %d, %v", stateProbe, rc, err)
	}
	d.stop()
	r.step("power cut; booting the device again")
	d2, err := r.boot(ctx, imgDir)
	if err != nil {
		return err
	}
	defer d2.stop()
	if _, _, err := d2.sh(ctx, "true", 60*time.Second); err != nil {
		return fmt.Errorf("demo: no shell after the reboot: %w", err)
	}
	out, rc, err := d2.sh(ctx, "cat "+stateProbe, 30*time.Second)
	if err != nil || rc != 0 || !strings.Contains(out, stamp) {
		return fmt.Errorf("demo: %s did not survive the power cut (exit %d, %v): %q", stateProbe, rc, err, strings.TrimSpace(out))
	}
	if _, err := r.ctl(ctx, d2, "wait-signin -timeout 120s", 150*time.Second); err != nil {
		return fmt.Errorf("demo: device did not sign in after the reboot: %w", err)
	}
	r.step("after the power cut the state folder kept %s and %s signed in again", stateProbe, DeviceAccount)
	return nil
}

func (r *run) buildTools(ctx context.Context) error {
	r.step("building messengerd and msmsgs for the host")
	for _, cmd := range []string{"messengerd", "msmsgs"} {
		c := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(r.bin, cmd), "./"+cmd)
		c.Dir = r.o.Root
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("demo: go build ./%s: %v\n%s", cmd, err, out)
		}
	}
	return nil
}

// startLab creates the two accounts and starts messengerd on loopback,
// with a second listener for QEMU guests (they reach it as 10.0.2.2).
func (r *run) startLab(ctx context.Context) (func(), error) {
	data := filepath.Join(r.o.Work, "lab")
	for acct, pass := range map[string]string{DeviceAccount: devicePass, HostAccount: hostPass} {
		c := exec.CommandContext(ctx, filepath.Join(r.bin, "messengerd"), "user", "add", "-data", data, acct)
		c.Stdin = strings.NewReader(pass + "\n")
		if out, err := c.CombinedOutput(); err != nil && !bytes.Contains(out, []byte("exists")) {
			return nil, fmt.Errorf("demo: messengerd user add %s: %v\n%s", acct, err, out)
		}
	}
	logf, err := os.Create(filepath.Join(r.logs, "messengerd.log"))
	if err != nil {
		return nil, err
	}
	c := exec.Command(filepath.Join(r.bin, "messengerd"), "serve", "-data", data,
		"-addr", "127.0.0.1:0", "-guest-addr", "127.0.0.1:0", "-https", "127.0.0.1:0")
	c.Stderr = logf
	stdout, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("demo: start messengerd: %w", err)
	}
	stop := stopper(c, logf)
	line, err := readLine(stdout, 30*time.Second)
	if err != nil {
		stop()
		return nil, fmt.Errorf("demo: messengerd did not report its addresses: %w (see %s)", err, logf.Name())
	}
	if err := json.Unmarshal([]byte(line), &r.lab); err != nil || r.lab.Guest == "" {
		stop()
		return nil, fmt.Errorf("demo: messengerd address line %q: %v", line, err)
	}
	go func() { _, _ = io.Copy(logf, stdout) }()
	r.step("lab service up: clients %s, guests 10.0.2.2:%s, nexus %s", r.lab.Addr, port(r.lab.Guest), r.lab.Nexus)
	return stop, nil
}

// startHostClient runs the second Messenger client on the host.
func (r *run) startHostClient(ctx context.Context) (func(), error) {
	state := filepath.Join(r.o.Work, "host-client")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"msmsgs.server": r.lab.Addr, "msmsgs.nexus": r.lab.Nexus, "msmsgs.account": HostAccount,
		"msmsgs.ca_file": r.lab.CA, "msmsgs.state_dir": state,
		"msmsgs.ft_auto_accept": true, "msmsgs.downloads": filepath.Join(state, "downloads"),
	}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(state, "settings.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		return nil, err
	}
	r.ctlBob = filepath.Join(state, "ctl.sock")
	logf, err := os.Create(filepath.Join(r.logs, "host-msmsgs.log"))
	if err != nil {
		return nil, err
	}
	c := exec.Command(filepath.Join(r.bin, "msmsgs"), "daemon", "-config", cfgFile, "-ctl", r.ctlBob)
	c.Env = append(os.Environ(), "MSMSGS_PASSWORD="+hostPass)
	c.Stdout, c.Stderr = logf, logf
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("demo: start host msmsgs: %w", err)
	}
	stop := stopper(c, logf)
	// The daemon creates its control socket once it has read its settings.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if _, err := os.Stat(r.ctlBob); err == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("demo: host client made no control socket %s in 30s (see %s)", r.ctlBob, logf.Name())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := r.bob(ctx, "wait-signin", "-timeout", "60s"); err != nil {
		stop()
		return nil, fmt.Errorf("demo: host client %s did not sign in: %w (see %s)", HostAccount, err, logf.Name())
	}
	if _, err := r.bob(ctx, "add", DeviceAccount); err != nil {
		stop()
		return nil, err
	}
	r.step("host client %s signed in", HostAccount)
	return stop, nil
}

// bob runs `msmsgs ctl` against the host client.
func (r *run) bob(ctx context.Context, args ...string) (string, error) {
	c := exec.CommandContext(ctx, filepath.Join(r.bin, "msmsgs"), append([]string{"ctl", "-ctl", r.ctlBob}, args...)...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if err != nil {
		return out.String(), fmt.Errorf("msmsgs ctl %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func (r *run) buildImage(ctx context.Context, dir string) error {
	_, guestPort, _ := net.SplitHostPort(r.lab.Guest)
	_, httpsPort, _ := net.SplitHostPort(r.lab.HTTPS)
	design := fmt.Sprintf(`# Written by the demo: the Messenger device of the lab.
bsp = %q
locales = ["en-US"]
certificates = [%q]

[flags]
SYSGEN_MESSENGER = true
SYSGEN_SHELL = true

[settings]
"msmsgs.server" = "10.0.2.2:%s"
"msmsgs.nexus" = "https://10.0.2.2:%s/rdr/pprdr.asp"
"msmsgs.account" = %q
"msmsgs.password" = %q
"msmsgs.ca_file" = "/etc/ssl/certs/device/ca.pem"
`, r.o.BSP, r.lab.CA, guestPort, httpsPort, DeviceAccount, devicePass)
	p := filepath.Join(r.o.Work, "osdesign.toml")
	if err := os.WriteFile(p, []byte(design), 0o600); err != nil {
		return err
	}
	r.step("building the SYSGEN_MESSENGER image for %s (design %s)", r.o.BSP, p)
	if err := r.o.Build(ctx, p, dir); err != nil {
		return fmt.Errorf("demo: sysgen build: %w", err)
	}
	return nil
}

// device is a booted QEMU guest with its serial console.
type device struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	mu      sync.Mutex
	buf     bytes.Buffer // console since the last consume
	notify  chan struct{}
	log     *os.File
	start   time.Time
	toInit  time.Duration
	toReady time.Duration
	done    chan struct{}
}

// FTHostPort is where the host reaches the device's first file-transfer
// port (QEMU forwards it to the guest's 6891).
const FTHostPort = 6891

func (r *run) boot(ctx context.Context, dir string) (*device, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := qemu.PrepareState(m, dir); err != nil {
		return nil, err
	}
	argv := qemu.Argv(m, dir, filepath.Join(r.logs, "audio.wav"), nil)
	fwd := false
	for i, a := range argv {
		if strings.HasPrefix(a, "user,") && i > 0 && argv[i-1] == "-netdev" {
			argv[i] = a + fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:6891", FTHostPort)
			fwd = true
		}
	}
	if !fwd {
		return nil, fmt.Errorf("demo: BSP %s has no user-networking netdev to forward the file-transfer port through", m.BSP)
	}
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", FTHostPort)); err != nil {
		return nil, fmt.Errorf("demo: host port %d (the device's first file-transfer port, forwarded by QEMU) is in use: stop the program holding it (another Messenger or demo?): %w", FTHostPort, err)
	} else {
		l.Close()
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, fmt.Errorf("demo: %s not found: apt-get install qemu-system-x86 qemu-system-arm (scripts/install-deps does it)", argv[0])
	}
	logf, err := os.Create(filepath.Join(r.logs, "console.log"))
	if err != nil {
		return nil, err
	}
	d := &device{notify: make(chan struct{}, 1), log: logf, done: make(chan struct{})}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	if d.stdin, err = d.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	d.cmd.Stderr = logf
	r.step("booting the device: %s", strings.Join(argv, " "))
	d.start = time.Now()
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("demo: start QEMU: %w", err)
	}
	go func() {
		defer close(d.done)
		b := make([]byte, 4096)
		for {
			n, err := stdout.Read(b)
			if n > 0 {
				d.mu.Lock()
				d.buf.Write(b[:n])
				d.mu.Unlock()
				logf.Write(b[:n])
				select {
				case d.notify <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	if _, err := d.expect(ctx, regexp.MustCompile(regexp.QuoteMeta(qemu.MarkerInit)), 3*time.Minute); err != nil {
		d.stop()
		return nil, fmt.Errorf("demo: kernel did not reach /init: %w (console: %s)", err, logf.Name())
	}
	d.toInit = time.Since(d.start)
	if _, err := d.expect(ctx, regexp.MustCompile(qemu.MarkerReady+` .*\n`), 3*time.Minute); err != nil {
		d.stop()
		return nil, fmt.Errorf("demo: device did not report ready: %w (console: %s)", err, logf.Name())
	}
	d.toReady = time.Since(d.start)
	r.step("device ready %.1fs after power-on (/init at %.1fs)", d.toReady.Seconds(), d.toInit.Seconds())
	return d, nil
}

func (d *device) stop() {
	if d.cmd.Process != nil {
		_ = d.cmd.Process.Kill()
	}
	<-d.done
	_ = d.cmd.Wait()
	d.log.Close()
}

// expect waits until re matches the console output since the last match
// and consumes it.
func (d *device) expect(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		b := d.buf.Bytes()
		if loc := re.FindSubmatchIndex(b); loc != nil {
			var groups []string
			for i := 0; i+1 < len(loc); i += 2 {
				if loc[i] >= 0 {
					groups = append(groups, string(b[loc[i]:loc[i+1]]))
				} else {
					groups = append(groups, "")
				}
			}
			d.buf.Next(loc[1])
			d.mu.Unlock()
			return groups, nil
		}
		d.mu.Unlock()
		select {
		case <-d.notify:
		case <-d.done:
			return nil, errors.New("QEMU exited")
		case <-deadline.C:
			return nil, fmt.Errorf("no %q within %v", re, timeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

var rcRE = regexp.MustCompile(`(?s)@@BEGIN@@\r?\n(.*?)@@RC=([0-9]+)@@`)

// sh types a command into the device's console shell and returns its
// output and exit status.
func (d *device) sh(ctx context.Context, cmd string, timeout time.Duration) (string, int, error) {
	// The markers are built by the shell (echo of two words) so the
	// echoed command line itself never matches.
	line := fmt.Sprintf("echo @@BEGIN''@@; %s; echo @@RC=$?''@@\n", cmd)
	if _, err := io.WriteString(d.stdin, line); err != nil {
		return "", -1, err
	}
	m, err := d.expect(ctx, rcRE, timeout)
	if err != nil {
		return "", -1, fmt.Errorf("device shell %q: %w", cmd, err)
	}
	rc := 0
	fmt.Sscan(m[2], &rc)
	return strings.ReplaceAll(m[1], "\r", ""), rc, nil
}

// ctl runs `msmsgs ctl` on the device and requires exit status 0.
func (r *run) ctl(ctx context.Context, d *device, args string, timeout time.Duration) (string, error) {
	out, rc, err := d.sh(ctx, "msmsgs ctl "+args, timeout)
	if err != nil {
		return out, err
	}
	if rc != 0 {
		return out, fmt.Errorf("device: msmsgs ctl %s: exit %d: %s", args, rc, strings.TrimSpace(out))
	}
	return out, nil
}

func (r *run) converse(ctx context.Context, d *device, imgDir string, res *Result) error {
	// The shell prompt comes after the ready line; give it a moment to
	// appear by waiting for the shell to answer.
	if _, _, err := d.sh(ctx, "true", 60*time.Second); err != nil {
		return fmt.Errorf("demo: no shell on the device console: %w", err)
	}
	if _, err := r.ctl(ctx, d, "wait-signin -timeout 120s", 150*time.Second); err != nil {
		return fmt.Errorf("demo: device did not sign in: %w", err)
	}
	res.ToSignedIn = time.Since(d.start)
	r.step("device %s signed in %.1fs after power-on", DeviceAccount, res.ToSignedIn.Seconds())
	if _, err := r.ctl(ctx, d, "add "+HostAccount, 30*time.Second); err != nil {
		return err
	}
	// Presence: the host sees the device go busy, the device sees the host.
	if _, err := r.ctl(ctx, d, "status set busy", 30*time.Second); err != nil {
		return err
	}
	if _, err := r.bob(ctx, "wait", "-timeout", "60s", "-since", "0", "presence", "account="+DeviceAccount, "status=BSY"); err != nil {
		return fmt.Errorf("demo: host did not see the device go busy: %w", err)
	}
	r.step("host sees %s busy", DeviceAccount)
	if _, err := r.bob(ctx, "status", "set", "away"); err != nil {
		return err
	}
	if _, err := r.ctl(ctx, d, "wait -timeout 60s -since 0 presence account="+HostAccount+" status=AWY", 90*time.Second); err != nil {
		return fmt.Errorf("demo: device did not see the host go away: %w", err)
	}
	r.step("device sees %s away", HostAccount)
	// A message each way, acknowledged.
	if _, err := r.ctl(ctx, d, "send "+HostAccount+" hello from the device", 60*time.Second); err != nil {
		return fmt.Errorf("demo: device message not delivered: %w", err)
	}
	if _, err := r.bob(ctx, "wait", "-timeout", "30s", "-since", "0", "message", "account="+DeviceAccount, "text=hello from the device"); err != nil {
		return fmt.Errorf("demo: host did not get the device's message: %w", err)
	}
	r.step("device -> host: \"hello from the device\" delivered")
	if _, err := r.bob(ctx, "send", DeviceAccount, "hello from the host"); err != nil {
		return fmt.Errorf("demo: host message not delivered: %w", err)
	}
	if _, err := r.ctl(ctx, d, "wait -timeout 30s -since 0 message account="+HostAccount, 60*time.Second); err != nil {
		return fmt.Errorf("demo: device did not get the host's message: %w", err)
	}
	r.step("host -> device: \"hello from the host\" delivered")
	// A file from the device: its own busybox binary, whose hash the image
	// manifest records.
	m, err := image.ReadManifest(imgDir)
	if err != nil {
		return err
	}
	want := ""
	for _, f := range m.Files {
		if f.Path == "/bbin/bb" {
			want = f.SHA256
		}
	}
	if want == "" {
		return errors.New("demo: the image manifest lists no /bbin/bb to send")
	}
	if _, err := r.ctl(ctx, d, "sendfile "+HostAccount+" /bbin/bb", 4*time.Minute); err != nil {
		return fmt.Errorf("demo: file transfer from the device failed: %w", err)
	}
	out, err := r.bob(ctx, "wait", "-timeout", "60s", "-since", "0", "ft-done")
	if err != nil {
		return fmt.Errorf("demo: host did not finish receiving the file: %w", err)
	}
	var ev struct {
		Path string `json:"path"`
	}
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Path == "" {
		return fmt.Errorf("demo: ft-done event %q has no path", out)
	}
	got, err := fsutil.SHA256(ev.Path)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("demo: received file %s has sha256 %s, the device's /bbin/bb has %s", ev.Path, got, want)
	}
	res.FileSHA256 = got
	r.step("file /bbin/bb (%s) arrived on the host with the same sha256", want[:16])
	return nil
}

// stopper returns a function that interrupts c (killing it after 5 s),
// waits for it and closes its log.
func stopper(c *exec.Cmd, logf *os.File) func() {
	return func() {
		_ = c.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
		logf.Close()
	}
}

func readLine(r io.Reader, timeout time.Duration) (string, error) {
	ch := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil {
			errc <- err
			return
		}
		ch <- strings.TrimSpace(line)
	}()
	select {
	case l := <-ch:
		return l, nil
	case err := <-errc:
		return "", err
	case <-time.After(timeout):
		return "", errors.New("timeout")
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

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
	"strings"
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
	// Keep leaves the lab, the host client and the device running after
	// the checks passed, until ctx is done (Ctrl-C), for a person to try
	// the device through the host client's control socket.
	Keep bool
}

// Check is one step of the scenario and how it went.
type Check struct {
	Name string
	// At is the time since the run started when the check ended.
	At time.Duration
	// Err is nil when the check passed.
	Err error
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
	// Checks are the scenario's checks in order; the run stops at the
	// first that fails (later ones need it).
	Checks []Check
}

type run struct {
	o      Options
	bin    string
	logs   string
	lab    labInfo
	ctlBob string
	out    io.Writer
	// ftPort is the device's file-transfer port, forwarded from the same
	// host port: the device advertises the address the service saw
	// (127.0.0.1 through QEMU's NAT) with its own port, so both must match.
	ftPort int
	res    *Result
	began  time.Time
}

// check runs one named check of the scenario and records it.
func (r *run) check(name string, f func() error) error {
	err := f()
	r.res.Checks = append(r.res.Checks, Check{Name: name, At: time.Since(r.began), Err: err})
	if err != nil {
		fmt.Fprintf(r.out, "FAIL %s: %v\n", name, err)
		return err
	}
	fmt.Fprintf(r.out, "PASS %s (%.1fs)\n", name, time.Since(r.began).Seconds())
	return nil
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
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	r := &run{o: o, bin: filepath.Join(o.Work, "bin"), logs: filepath.Join(o.Work, "logs"), out: o.Out, began: time.Now()}
	res := &Result{Logs: r.logs}
	r.res = res
	for _, d := range []string{r.bin, r.logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return res, err
		}
	}
	var err error
	if r.ftPort, err = qemu.FreePort(); err != nil {
		return res, err
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

	dev, err := r.boot(ctx, imgDir, "console.log")
	if err != nil {
		return res, err
	}
	res.ToInit, res.ToReady = dev.toInit, dev.toReady
	if err := r.converse(ctx, dev, imgDir, res); err != nil {
		dev.stop()
		return res, err
	}
	dev, err = r.powerCycle(ctx, dev, imgDir)
	if err != nil {
		return res, err
	}
	defer dev.stop()
	if o.Keep {
		r.step("all checks passed; the device keeps running (console: %s). Try it from the host client:", dev.log.Name())
		r.step("  %s ctl -ctl %s send %s hello", filepath.Join(r.bin, "msmsgs"), r.ctlBob, DeviceAccount)
		r.step("press Ctrl-C to stop")
		select {
		case <-parent.Done():
		case <-dev.vm.Exited():
			r.step("the device stopped")
		}
	}
	return res, nil
}

// stateProbe is written under Messenger's state folder before a power cut.
const stateProbe = "/var/lib/msmsgs/demo-state.txt"

// powerCycle writes a file into msmsgs's state folder, cuts the power
// (kills QEMU), boots the same device again and checks that the file is
// still there (the state partition, SYSGEN_STATEFS) and msmsgs signs in. It
// returns the device as booted again.
func (r *run) powerCycle(ctx context.Context, d *device, imgDir string) (*device, error) {
	stamp := fmt.Sprintf("state-%d", time.Now().UnixNano())
	if err := r.check("device writes "+stateProbe, func() error {
		if _, rc, err := d.vm.Run(ctx, "echo "+stamp+" > "+stateProbe+" && sync", 30*time.Second); err != nil || rc != 0 {
			return fmt.Errorf("exit %d, %v", rc, err)
		}
		return nil
	}); err != nil {
		d.stop()
		return nil, err
	}
	d.kill()
	r.step("power cut; booting the device again")
	d2, err := r.boot(ctx, imgDir, "console-2.log")
	if err != nil {
		return nil, err
	}
	err = r.check(stateProbe+" survives the power cut", func() error {
		out, rc, err := d2.vm.Run(ctx, "cat "+stateProbe, 60*time.Second)
		if err != nil || rc != 0 || !strings.Contains(out, stamp) {
			return fmt.Errorf("cat %s: exit %d, %v: %q", stateProbe, rc, err, strings.TrimSpace(out))
		}
		return nil
	})
	if err == nil {
		err = r.check("device signs in again after the reboot", func() error {
			_, err := r.ctl(ctx, d2, "wait-signin -timeout 120s", 150*time.Second)
			return err
		})
	}
	if err != nil {
		d2.stop()
		return nil, err
	}
	return d2, nil
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
	br := bufio.NewReader(stdout)
	line, err := readLine(br, 30*time.Second)
	if err != nil {
		stop()
		return nil, fmt.Errorf("demo: messengerd did not report its addresses: %w (see %s)", err, logf.Name())
	}
	if err := json.Unmarshal([]byte(line), &r.lab); err != nil || r.lab.Guest == "" {
		stop()
		return nil, fmt.Errorf("demo: messengerd address line %q: %v", line, err)
	}
	go func() { _, _ = io.Copy(logf, br) }()
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
"msmsgs.ft_ports" = "%d"
`, r.o.BSP, r.lab.CA, guestPort, httpsPort, DeviceAccount, devicePass, r.ftPort)
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

// device is a booted QEMU guest, driven through its serial console.
type device struct {
	vm      *qemu.VM
	log     *os.File
	toInit  time.Duration
	toReady time.Duration
}

func (r *run) boot(ctx context.Context, dir, logName string) (*device, error) {
	logf, err := os.Create(filepath.Join(r.logs, logName))
	if err != nil {
		return nil, err
	}
	vm, err := qemu.Start(ctx, dir, qemu.Options{
		WAV:     filepath.Join(r.logs, "audio.wav"),
		Console: logf,
		Forward: []qemu.Forward{{Guest: r.ftPort, Host: r.ftPort}},
	})
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("demo: boot the device: %w", err)
	}
	r.step("booting the device: %s", strings.Join(vm.Argv(), " "))
	d := &device{vm: vm, log: logf}
	err = r.check("kernel reaches /init", func() error {
		m, err := vm.WaitMarker(ctx, qemu.MarkerInit, 3*time.Minute)
		if err != nil {
			return fmt.Errorf("%w (console: %s)", err, logf.Name())
		}
		d.toInit = m.At
		return nil
	})
	if err == nil {
		err = r.check("device reports ready", func() error {
			m, err := vm.WaitMarker(ctx, qemu.MarkerReady, 3*time.Minute)
			if err != nil {
				return fmt.Errorf("%w (console: %s)", err, logf.Name())
			}
			d.toReady = m.At
			return nil
		})
	}
	if err == nil {
		// The shell prompt comes after the ready line: wait for the
		// shell to answer.
		err = r.check("shell answers on the console", func() error {
			_, _, err := vm.Run(ctx, "true", 60*time.Second)
			return err
		})
	}
	if err != nil {
		d.stop()
		return nil, err
	}
	r.step("device ready %.1fs after power-on (/init at %.1fs)", d.toReady.Seconds(), d.toInit.Seconds())
	return d, nil
}

// stop shuts QEMU down cleanly.
func (d *device) stop() {
	d.vm.Stop()
	d.log.Close()
}

// kill cuts the power.
func (d *device) kill() {
	d.vm.Kill()
	d.log.Close()
}

// ctl runs `msmsgs ctl` on the device and requires exit status 0.
func (r *run) ctl(ctx context.Context, d *device, args string, timeout time.Duration) (string, error) {
	out, rc, err := d.vm.Run(ctx, "msmsgs ctl "+args, timeout)
	if err != nil {
		return out, err
	}
	if rc != 0 {
		return out, fmt.Errorf("device: msmsgs ctl %s: exit %d: %s", args, rc, strings.TrimSpace(out))
	}
	return out, nil
}

// converse is the scenario's main part: sign-in, presence both ways, a
// message each way and a file from the device checked by hash.
func (r *run) converse(ctx context.Context, d *device, imgDir string, res *Result) error {
	ctl := func(args string, timeout time.Duration) func() error {
		return func() error { _, err := r.ctl(ctx, d, args, timeout); return err }
	}
	bob := func(args ...string) func() error {
		return func() error { _, err := r.bob(ctx, args...); return err }
	}
	both := func(fs ...func() error) func() error {
		return func() error {
			for _, f := range fs {
				if err := f(); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var want string
	steps := []struct {
		name string
		f    func() error
	}{
		{"device " + DeviceAccount + " signs in", func() error {
			if err := ctl("wait-signin -timeout 120s", 150*time.Second)(); err != nil {
				return err
			}
			res.ToSignedIn = time.Since(d.vm.Started())
			return nil
		}},
		{"host sees the device go busy", both(ctl("add "+HostAccount, 30*time.Second), ctl("status set busy", 30*time.Second),
			bob("wait", "-timeout", "60s", "-since", "0", "presence", "account="+DeviceAccount, "status=BSY"))},
		{"device sees the host go away", both(bob("status", "set", "away"),
			ctl("wait -timeout 60s -since 0 presence account="+HostAccount+" status=AWY", 90*time.Second))},
		{"device -> host message delivered", both(ctl("send "+HostAccount+" hello from the device", 60*time.Second),
			bob("wait", "-timeout", "30s", "-since", "0", "message", "account="+DeviceAccount, "text=hello from the device"))},
		{"host -> device message delivered", both(bob("send", DeviceAccount, "hello from the host"),
			ctl("wait -timeout 30s -since 0 message account="+HostAccount, 60*time.Second))},
		{"file /bbin/bb from the device arrives with the same sha256", func() error {
			// The device's own busybox binary, whose hash the image
			// manifest records.
			m, err := image.ReadManifest(imgDir)
			if err != nil {
				return err
			}
			for _, f := range m.Files {
				if f.Path == "/bbin/bb" {
					want = f.SHA256
				}
			}
			if want == "" {
				return errors.New("the image manifest lists no /bbin/bb to send")
			}
			if _, err := r.ctl(ctx, d, "sendfile "+HostAccount+" /bbin/bb", 4*time.Minute); err != nil {
				return err
			}
			out, err := r.bob(ctx, "wait", "-timeout", "60s", "-since", "0", "ft-done")
			if err != nil {
				return fmt.Errorf("host did not finish receiving the file: %w", err)
			}
			var ev struct {
				Path string `json:"path"`
			}
			if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Path == "" {
				return fmt.Errorf("ft-done event %q has no path", out)
			}
			got, err := fsutil.SHA256(ev.Path)
			if err != nil {
				return err
			}
			if got != want {
				return fmt.Errorf("received file %s has sha256 %s, the device's /bbin/bb has %s", ev.Path, got, want)
			}
			res.FileSHA256 = got
			return nil
		}},
	}
	for _, st := range steps {
		if err := r.check(st.name, st.f); err != nil {
			return fmt.Errorf("demo: %s: %w", st.name, err)
		}
	}
	r.step("device signed in %.1fs after power-on; file %s... crossed", res.ToSignedIn.Seconds(), want[:16])
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

// readLine reads one line from br within timeout; br keeps what came
// after it.
func readLine(br *bufio.Reader, timeout time.Duration) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := br.ReadString('\n')
		ch <- result{strings.TrimSpace(line), err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-time.After(timeout):
		return "", errors.New("timeout")
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

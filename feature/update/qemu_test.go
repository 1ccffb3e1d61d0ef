package update_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/update"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/marker"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/sysgen/cli"
)

const (
	account  = "alice@lab.test"
	password = "device pass 1"
)

// lab is messengerd on loopback, with a listener for QEMU guests.
type lab struct {
	Addr  string `json:"addr"`
	Guest string `json:"guest"`
	HTTPS string `json:"https"`
	Nexus string `json:"nexus"`
	CA    string `json:"ca"`
}

func startLab(t *testing.T, root, work string) lab {
	t.Helper()
	bin := filepath.Join(work, "messengerd")
	c := exec.Command("go", "build", "-o", bin, "./messengerd")
	c.Dir = root
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go build ./messengerd: %v\n%s", err, out)
	}
	data := filepath.Join(work, "lab")
	c = exec.Command(bin, "user", "add", "-data", data, account)
	c.Stdin = strings.NewReader(password + "\n")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("messengerd user add: %v\n%s", err, out)
	}
	logf, err := os.Create(filepath.Join(work, "messengerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	c = exec.Command(bin, "serve", "-data", data, "-addr", "127.0.0.1:0", "-guest-addr", "127.0.0.1:0", "-https", "127.0.0.1:0")
	c.Stderr = logf
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait(); logf.Close() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var l lab
	if err != nil || json.Unmarshal([]byte(line), &l) != nil || l.Guest == "" {
		t.Fatalf("messengerd address line %q: %v", line, err)
	}
	go io.Copy(io.Discard, stdout)
	return l
}

// design is an OS design for the lab device with updates.
func design(l lab, pub ed25519.PublicKey, pass, health string) string {
	_, guestPort, _ := net.SplitHostPort(l.Guest)
	_, httpsPort, _ := net.SplitHostPort(l.HTTPS)
	return fmt.Sprintf(`certificates = [%q]
[flags]
SYSGEN_MESSENGER = true
SYSGEN_SHELL = true
SYSGEN_UPDATE = true
[settings]
"msmsgs.server" = "10.0.2.2:%s"
"msmsgs.nexus" = "https://10.0.2.2:%s/rdr/pprdr.asp"
"msmsgs.account" = %q
"msmsgs.password" = %q
"msmsgs.ca_file" = "/etc/ssl/certs/device/ca.pem"
"update.public_key" = %q
"update.health_timeout" = %q
"update.version" = "2"
`, l.CA, guestPort, httpsPort, account, pass, update.FormatPublicKey(pub), health)
}

func build(t *testing.T, ctx context.Context, root, work, name, text string) string {
	t.Helper()
	p := filepath.Join(work, name+".toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, name)
	var log bytes.Buffer
	c := &cli.Context{Args: []string{"build", "--design", p, "-o", out}, Dir: root, Stdout: &log, Stderr: &log}
	start := time.Now()
	if err := c.Execute(ctx); err != nil {
		t.Fatalf("sysgen build %s: %v\n%s", name, err, log.String())
	}
	t.Logf("built %s in %.1fs: %s", name, time.Since(start).Seconds(), lastLines(log.String(), 2))
	return out
}

func lastLines(s string, n int) string { return qemu.Tail(s, n) }

// sysgenUpdate runs `sysgen update` in-process.
func sysgenUpdate(ctx context.Context, root, key, url, img string) (string, error) {
	var out bytes.Buffer
	c := &cli.Context{Args: []string{"update", "--key", key, url, img}, Dir: root, Stdout: &out, Stderr: &out}
	err := c.Execute(ctx)
	return out.String(), err
}

type slotLine struct {
	Slot           string `json:"slot"`
	Generation     int    `json:"generation"`
	State          string `json:"state"`
	RolledBackFrom string `json:"rolled_back_from"`
	Error          string `json:"error"`
}

var slotRE = regexp.MustCompile(`DEVICE-SLOT (\{[^\n]*\})`)

// nextSlot waits for the next DEVICE-SLOT line.
func nextSlot(t *testing.T, ctx context.Context, v *qemu.VM, timeout time.Duration) slotLine {
	t.Helper()
	m, err := v.Expect(ctx, slotRE, timeout)
	if err != nil {
		t.Fatalf("waiting for DEVICE-SLOT: %v", err)
	}
	var s slotLine
	if err := json.Unmarshal([]byte(m[1]), &s); err != nil {
		t.Fatalf("DEVICE-SLOT %q: %v", m[1], err)
	}
	return s
}

func wantSlot(t *testing.T, got slotLine, slot, state string) {
	t.Helper()
	if got.Slot != slot || got.State != state {
		t.Fatalf("DEVICE-SLOT = %+v, want slot %s %s", got, slot, state)
	}
}

// console is a VM console log that survives QEMU restarts.
type console struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

// TestUpdateUnderOVMF flashes the Messenger image's disk to a file and
// boots it under OVMF (no -kernel) the way a board boots its storage, then:
// a tampered bundle is refused; a power cut in the middle of writing slot B
// leaves A booting; a B whose health check fails (wrong Messenger password)
// gets one trial boot and the device returns to A by itself; a good B boots,
// signs in to the lab service and marks itself good, and the file kept on
// the state partition under A is still there under B.
func TestUpdateUnderOVMF(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two images and boots them under OVMF in QEMU")
	}
	imagetest.UEFI(t, qemu.OVMFCode)
	imagetest.Kernel(t, "qemu-x86_64")
	root := imagetest.Root(t)
	work := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 22*time.Minute)
	defer cancel()

	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(work, "oem.key")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)

	l := startLab(t, root, work)
	good := build(t, ctx, root, work, "good", design(l, pub, password, "90s"))
	bad := build(t, ctx, root, work, "bad", design(l, pub, "wrong password", "30s"))
	// A trial boot of this one hangs its init before the health check: only
	// the hardware watchdog (30s + 20s, never kicked) gets it out.
	hang := build(t, ctx, root, work, "hang", design(l, pub, password, "30s")+`"update.test_hang_trial" = true
"watchdog.timeout" = "20s"
`)
	m, err := image.ReadManifest(good)
	if err != nil {
		t.Fatal(err)
	}
	if m.Disk == nil {
		t.Fatalf("the build wrote no disk image (manifest disk = nil)")
	}

	// Today's -kernel boot of the same image, for the timing next to UEFI.
	kres, err := qemu.Boot(ctx, good, qemu.Options{Timeout: 4 * time.Minute})
	if err != nil {
		t.Fatalf("-kernel boot: %v", err)
	}

	// Flash the disk image to the device's "storage" (a file).
	disk := filepath.Join(work, "device.img")
	var flashOut bytes.Buffer
	c := &cli.Context{Args: []string{"flash", "-q", good, disk}, Dir: root, Stdout: &flashOut, Stderr: &flashOut}
	if err := c.Execute(ctx); err != nil {
		t.Fatalf("sysgen flash: %v\n%s", err, flashOut.String())
	}
	vars, err := qemu.NewVars(work)
	if err != nil {
		t.Fatal(err)
	}
	var con console
	defer func() {
		if t.Failed() {
			os.WriteFile(filepath.Join(os.TempDir(), "update-ovmf-console.log"), []byte(con.String()), 0o644)
			t.Logf("console: %s", filepath.Join(os.TempDir(), "update-ovmf-console.log"))
		}
	}()
	start := func() (*qemu.VM, string) {
		t.Helper()
		v, err := qemu.StartDisk(ctx, m, disk, vars, qemu.Options{Console: &con, Forward: []qemu.Forward{{Guest: 8470}}})
		if err != nil {
			t.Fatal(err)
		}
		return v, fmt.Sprintf("http://127.0.0.1:%d", v.HostPort(8470))
	}
	v, url := start()
	defer func() { v.Stop() }()
	ready, err := v.WaitMarker(ctx, marker.Ready, 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("boot to ready: UEFI (OVMF, systemd-boot, bzImage) %.1fs; -kernel (PVH) %.1fs", ready.At.Seconds(), kres.ToReady.Seconds())
	wantSlot(t, nextSlot(t, ctx, v, time.Minute), "a", "good")
	if wd := nextWatchdog(t, ctx, v); wd.State != "kicked" || wd.TimeoutS != 30 {
		t.Errorf("DEVICE-WATCHDOG on A = %+v, want kicked with the 30s default", wd)
	}
	if !strings.Contains(ready.Payload, `"state":"/dev/vda2 on /var/lib (ext4)"`) {
		t.Errorf("DEVICE-READY %s: want the state partition /dev/vda2 mounted", ready.Payload)
	}
	run := func(t *testing.T, cmd string) string {
		t.Helper()
		out, rc, err := v.Run(ctx, cmd, 3*time.Minute)
		if err != nil || rc != 0 {
			t.Fatalf("device: %s: exit %d, %v: %s", cmd, rc, err, out)
		}
		return out
	}
	if err := v.ExpectString(ctx, "update: listening", 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	run(t, "msmsgs ctl wait-signin -timeout 120s")
	run(t, "echo kept-across-updates > /var/lib/update-test.txt && sync")

	t.Run("tampered", func(t *testing.T) {
		b, err := makeBundle(good, priv)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-100] ^= 1
		resp, err := http.Post(url+"/update", "application/octet-stream", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "signed sha256") {
			t.Errorf("tampered bundle: %s %q, want 400 naming the hash", resp.Status, body)
		}
		if got := entries(run(t, "ls /boot/efi/loader/entries")); got != "sysgen-0001-a.conf" {
			t.Errorf("loader entries after the refused bundle = %q, want only slot A's", got)
		}
	})

	t.Run("downgrade refused", func(t *testing.T) {
		b, err := makeBundleVersion(good, priv, "1")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(url+"/update", "application/octet-stream", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict || !strings.Contains(string(body), "the bundle is version 1 and the running system is version 2") {
			t.Errorf("older bundle: %s %q, want 409 naming both versions", resp.Status, body)
		}
		if got := entries(run(t, "ls /boot/efi/loader/entries")); got != "sysgen-0001-a.conf" {
			t.Errorf("loader entries after the refused downgrade = %q, want only slot A's", got)
		}
	})

	t.Run("power cut while writing", func(t *testing.T) {
		done := make(chan error, 1)
		go func() { _, err := sysgenUpdate(ctx, root, keyFile, url, good); done <- err }()
		if err := v.ExpectString(ctx, "update: writing slot b: vmlinuz", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		v.Kill()
		<-done
		if strings.Contains(con.String(), "slot b written") {
			t.Fatalf("the write finished before the power cut; the test did not cut it")
		}
		v, url = start()
		wantSlot(t, nextSlot(t, ctx, v, 4*time.Minute), "a", "good")
	})

	t.Run("failed health check rolls back", func(t *testing.T) {
		if err := v.ExpectString(ctx, "update: listening", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		if out, err := sysgenUpdate(ctx, root, keyFile, url, bad); err != nil {
			t.Fatalf("sysgen update (bad B): %v\n%s", err, out)
		}
		wantSlot(t, nextSlot(t, ctx, v, 4*time.Minute), "b", "trial")
		s := nextSlot(t, ctx, v, 3*time.Minute)
		wantSlot(t, s, "b", "failed")
		t.Logf("B's health check: %s", s.Error)
		s = nextSlot(t, ctx, v, 4*time.Minute)
		wantSlot(t, s, "a", "good")
		if s.RolledBackFrom != "b" {
			t.Errorf("DEVICE-SLOT after the rollback = %+v, want rolled_back_from b", s)
		}
	})

	t.Run("hung trial is reset by the watchdog", func(t *testing.T) {
		if err := v.ExpectString(ctx, "update: listening", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		if out, err := sysgenUpdate(ctx, root, keyFile, url, hang); err != nil {
			t.Fatalf("sysgen update (hanging B): %v\n%s", err, out)
		}
		wantSlot(t, nextSlot(t, ctx, v, 4*time.Minute), "b", "trial")
		if wd := nextWatchdog(t, ctx, v); wd.State != "trial" || wd.TimeoutS != 50 {
			t.Errorf("DEVICE-WATCHDOG on the trial = %+v, want trial with 30s + 20s", wd)
		}
		if err := v.ExpectString(ctx, "this trial boot hangs before its health check", time.Minute); err != nil {
			t.Fatal(err)
		}
		hungAt := time.Now()
		mark := len(con.String())
		s := nextSlot(t, ctx, v, 5*time.Minute)
		took := time.Since(hungAt)
		wantSlot(t, s, "a", "good")
		if s.RolledBackFrom != "b" {
			t.Errorf("DEVICE-SLOT after the watchdog reset = %+v, want rolled_back_from b", s)
		}
		after := con.String()[mark:]
		// Nothing but the watchdog restarted it: no panic, no reboot by
		// the guest, and not before the timer ran out.
		for _, bad := range []string{"Kernel panic", "reboot: Restarting", "DEVICE-SLOT {\"slot\":\"b\""} {
			if strings.Contains(after, bad) {
				t.Errorf("console after the hang has %q: the trial was not ended by the watchdog", bad)
			}
		}
		if took < 45*time.Second {
			t.Errorf("back in A %.1fs after the hang, before the 50s watchdog could fire", took.Seconds())
		}
		t.Logf("hung trial: back in slot A %.1fs after the init hung (watchdog 50s, then firmware, loader and A's boot)", took.Seconds())
	})

	t.Run("update to B signs in", func(t *testing.T) {
		if err := v.ExpectString(ctx, "update: listening", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		out, err := sysgenUpdate(ctx, root, keyFile, url, good)
		if err != nil {
			t.Fatalf("sysgen update: %v\n%s", err, out)
		}
		sent := time.Since(began)
		wantSlot(t, nextSlot(t, ctx, v, 4*time.Minute), "b", "trial")
		wantSlot(t, nextSlot(t, ctx, v, 3*time.Minute), "b", "blessed")
		t.Logf("update: transfer and write %.1fs, then trial boot until signed in and marked good %.1fs (total %.1fs)",
			sent.Seconds(), (time.Since(began) - sent).Seconds(), time.Since(began).Seconds())
		run(t, "msmsgs ctl wait-signin -timeout 60s")
		// Services log to the same console, so a log line can land in
		// the command's output before the file's one line.
		if got := run(t, "cat /var/lib/update-test.txt"); strings.TrimSpace(lastLines(got, 1)) != "kept-across-updates" {
			t.Errorf("state file under B = %q, want what A wrote", got)
		}
		if got := run(t, "cat /proc/cmdline"); !strings.Contains(got, "sysgen.slot=b") {
			t.Errorf("B's command line = %q, want sysgen.slot=b", got)
		}
		// B's entry lost its boot counter: the loader keeps booting it
		// (as it boots A's counter-less entry above).
		if got := entries(run(t, "ls /boot/efi/loader/entries")); got != "sysgen-0001-a.conf sysgen-0002-b.conf" {
			t.Errorf("loader entries after B's trial = %q, want A's and B's, both without a counter", got)
		}
	})
}

type watchdogLine struct {
	State    string `json:"state"`
	TimeoutS int    `json:"timeout_s"`
	Error    string `json:"error"`
}

var watchdogRE = regexp.MustCompile(`DEVICE-WATCHDOG (\{[^\n]*\})`)

// nextWatchdog waits for the next DEVICE-WATCHDOG line.
func nextWatchdog(t *testing.T, ctx context.Context, v *qemu.VM) watchdogLine {
	t.Helper()
	m, err := v.Expect(ctx, watchdogRE, time.Minute)
	if err != nil {
		t.Fatalf("waiting for DEVICE-WATCHDOG: %v", err)
	}
	var w watchdogLine
	if err := json.Unmarshal([]byte(m[1]), &w); err != nil {
		t.Fatalf("DEVICE-WATCHDOG %q: %v", m[1], err)
	}
	return w
}

// entries picks the loader entry names out of ls output (services log to
// the same console).
func entries(ls string) string {
	var out []string
	for _, f := range strings.Fields(ls) {
		if strings.HasPrefix(f, "sysgen-") && strings.HasSuffix(f, ".conf") {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

// makeBundle signs an image folder as sysgen update does.
func makeBundle(dir string, key ed25519.PrivateKey) ([]byte, error) {
	return makeBundleVersion(dir, key, "2")
}

// makeBundleVersion signs an image folder with the given version in the
// signed header.
func makeBundleVersion(dir string, key ed25519.PrivateKey, version string) ([]byte, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for n, f := range map[string]string{update.FileKernel: m.Kernel.File, update.FileInitrd: m.Initramfs, update.FileManifest: image.ManifestFile} {
		if files[n], err = os.ReadFile(filepath.Join(dir, f)); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	err = update.Sign(&buf, key, update.Header{Board: m.BSP, Cmdline: m.Cmdline, Version: version}, files)
	return buf.Bytes(), err
}

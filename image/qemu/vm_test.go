package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/marker"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/u-root/u-root/pkg/cpio"
)

// shellVM starts the console driver on a plain sh instead of QEMU: the
// same pipes, reader, Expect and Run, with no guest to boot.
func shellVM(t *testing.T, script string, opts Options) (*VM, error) {
	t.Helper()
	testenv.Tool(t, "sh", "apt-get install dash")
	m := &image.Manifest{QEMU: []string{"sh", "-c", script, "sh", "-netdev", "user,id=n0"}}
	return StartManifest(context.Background(), m, t.TempDir(), opts)
}

// TestConsoleDriver drives a shell through the console driver: markers,
// commands with output and exit status, a long output that arrives in
// many reads, a line split across reads, and QEMU (here: the shell)
// exiting while something is awaited.
func TestConsoleDriver(t *testing.T) {
	v, err := shellVM(t, `sleep 0.1; echo '2026/01/01 Welcome to u-root!'; echo 'DEVICE-READY {"uptime_ms":5}'; exec sh`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Stop()
	ctx := context.Background()
	m, err := v.WaitMarker(ctx, marker.Ready, 10*time.Second)
	if err != nil || m.Payload != `{"uptime_ms":5}` {
		t.Fatalf("WaitMarker(ready) = %+v, %v", m, err)
	}
	if m, ok := v.Marker(marker.Init); !ok || m.At < 100*time.Millisecond {
		t.Errorf("Marker(init) = %+v, %v, want it timed after the 0.1 s sleep", m, ok)
	}
	for _, c := range []struct {
		cmd, out string
		rc       int
	}{
		{"echo hello", "hello\n", 0},
		{"(exit 3)", "", 3},
		{"echo a; echo b >&2; false", "a\nb\n", 1},
	} {
		out, rc, err := v.Run(ctx, c.cmd, 10*time.Second)
		if err != nil || out != c.out || rc != c.rc {
			t.Errorf("Run(%q) = %q, %d, %v, want %q, %d", c.cmd, out, rc, err, c.out, c.rc)
		}
	}
	const n = 20000
	out, rc, err := v.Run(ctx, fmt.Sprintf(`i=0; while [ $i -lt %d ]; do echo line$i; i=$((i+1)); done`, n), time.Minute)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if err != nil || rc != 0 || len(lines) != n {
		t.Fatalf("Run(%d lines) = %d lines, rc %d, %v", n, len(lines), rc, err)
	}
	for i, l := range lines {
		if l != "line"+strconv.Itoa(i) {
			t.Fatalf("line %d = %q, want line%d: console bytes lost or reordered", i, l, i)
		}
	}
	if _, err := v.Write([]byte("printf 'spl'; sleep 0.3; printf 'it-%s\\n' done\n")); err != nil {
		t.Fatal(err)
	}
	if g, err := v.Expect(ctx, regexp.MustCompile(`split-(\w+)`), 10*time.Second); err != nil || g[1] != "done" {
		t.Errorf("Expect(split across reads) = %q, %v", g, err)
	}
	if err := v.ExpectString(ctx, "never printed", 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "within 300ms") {
		t.Errorf("ExpectString(absent) = %v, want a timeout", err)
	}
	if _, err := v.Write([]byte("echo bye; exit 0\n")); err != nil {
		t.Fatal(err)
	}
	if err := v.ExpectString(ctx, "never printed", time.Minute); !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "bye") {
		t.Errorf("ExpectString after exit = %v, want ErrExited with the console tail", err)
	}
	if err := v.Stop(); err != nil {
		t.Errorf("Stop after exit = %v", err)
	}
	if c := v.Console(); !strings.Contains(c, "line19999") || !strings.Contains(c, marker.Ready) {
		t.Errorf("Console() lacks the run: %.80q", c)
	}
}

// TestExtraArgs checks that Options.ExtraArgs reach the end of the command
// line, after the manifest's arguments and the forwards.
func TestExtraArgs(t *testing.T) {
	v, err := shellVM(t, `echo "ARGS $*"; sleep 600`, Options{ExtraArgs: []string{"-rtc", "base=2020-01-01T00:00:00"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Kill()
	g, err := v.Expect(context.Background(), regexp.MustCompile(`ARGS ([^\n]*)\n`), 10*time.Second)
	if want := "-netdev user,id=n0 -rtc base=2020-01-01T00:00:00"; err != nil || g[1] != want {
		t.Errorf("arguments seen = %q, %v, want %q", g, err, want)
	}
	if a := v.Argv(); a[len(a)-1] != "base=2020-01-01T00:00:00" {
		t.Errorf("Argv() = %q, want the extra arguments last", a)
	}
}

// TestConsoleStop stops a guest that ignores nothing: Stop must end it and
// return once the reader is done.
func TestConsoleStop(t *testing.T) {
	v, err := shellVM(t, `echo up; sleep 600`, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.ExpectString(context.Background(), "up", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := v.Stop(); err != nil {
		t.Errorf("Stop = %v", err)
	}
	select {
	case <-v.Exited():
	default:
		t.Errorf("Stop returned before the process exited")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v", d)
	}
}

// TestForwardPortTaken asks for a host port that something else holds: the
// error names the port.
func TestForwardPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = shellVM(t, "sleep 60", Options{Forward: []Forward{{Guest: 6891, Host: port}}})
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), fmt.Sprintf("127.0.0.1:%d", port)) {
		t.Errorf("Start(forward to a taken port %d) = %v, want ErrPortInUse naming it", port, err)
	}
	m := &image.Manifest{QEMU: []string{"sh", "-c", "sleep 60"}}
	if _, err := StartManifest(context.Background(), m, t.TempDir(), Options{Forward: []Forward{{Guest: 22}}}); err == nil || !strings.Contains(err.Error(), "-netdev user") {
		t.Errorf("Start(forward without user networking) = %v, want an error saying so", err)
	}
}

// guestImage writes an image folder whose initramfs holds the test guest
// as /init, booting the BSP's kernel.
func guestImage(t *testing.T, bsp string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	k := imagetest.Kernel(t, bsp)
	dir := t.TempDir()
	bin := filepath.Join(dir, "init")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./internal/testguest")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build testguest: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "initramfs.cpio"))
	if err != nil {
		t.Fatal(err)
	}
	w := cpio.Newc.Writer(f)
	for _, r := range []cpio.Record{cpio.Directory("dev", 0o755), cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.StaticFile("init", string(b), 0o755), cpio.TrailerRecord} {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	kb, err := os.ReadFile(k.Vmlinuz)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "vmlinuz"), kb, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	sum, err := fsutil.SHA256(k.Vmlinuz)
	if err != nil {
		t.Fatal(err)
	}
	m := image.Manifest{BSP: bsp, GOARCH: "amd64", Initramfs: "initramfs.cpio", Cmdline: "console=ttyS0 quiet panic=-1",
		Kernel: image.ManifestKernel{File: "vmlinuz", SHA256: sum},
		QEMU: []string{"qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nographic", "-no-reboot",
			"-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}", "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile="}}
	mb, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, image.ManifestFile), mb, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestVMShell boots the real kernel with the test guest in QEMU, forwards a
// free host port into it, and runs shell commands over the serial console.
func TestVMShell(t *testing.T) {
	dir := guestImage(t, "qemu-x86_64")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	v, err := Start(ctx, dir, Options{Forward: []Forward{{Guest: 6891}}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Stop()
	hp := v.HostPort(6891)
	if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", hp)); err == nil || hp == 0 {
		if l != nil {
			l.Close()
		}
		t.Errorf("HostPort(6891) = %d, not held by QEMU", hp)
	}
	if !strings.Contains(strings.Join(v.Argv(), " "), fmt.Sprintf("hostfwd=tcp:127.0.0.1:%d-:6891", hp)) {
		t.Errorf("argv %q lacks the forward", v.Argv())
	}
	m, err := v.WaitMarker(ctx, marker.Ready, 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guest shell ready %v after QEMU start (PVH %v)", m.At.Round(time.Millisecond), v.PVH())
	out, rc, err := v.Run(ctx, "echo from the guest; (exit 7)", time.Minute)
	if err != nil || out != "from the guest\n" || rc != 7 {
		t.Errorf("Run in the guest = %q, %d, %v", out, rc, err)
	}
	out, rc, err = v.Run(ctx, `i=0; while [ $i -lt 2000 ]; do echo l$i; i=$((i+1)); done`, 2*time.Minute)
	if n := strings.Count(out, "\n"); err != nil || rc != 0 || n != 2000 || !strings.HasSuffix(out, "l1999\n") {
		t.Errorf("Run(2000 lines) in the guest = %d lines, rc %d, %v", n, rc, err)
	}
	if err := v.Stop(); err != nil {
		t.Errorf("Stop = %v", err)
	}
	t.Logf("whole VM test %v", time.Since(start).Round(time.Millisecond))
}

// TestBootWaitExit checks how Boot's wait for power off ends: QEMU's own
// exit error is the boot's error, while ctx ending after ready (the
// caller stopping the boot) is a normal end.
func TestBootWaitExit(t *testing.T) {
	testenv.Tool(t, "sh", "apt-get install dash")
	boot := func(script string, ctx context.Context) error {
		dir := t.TempDir()
		mb, _ := json.Marshal(image.Manifest{Kernel: image.ManifestKernel{File: "vmlinuz"}, Initramfs: "initramfs.cpio", QEMU: []string{"sh", "-c", script}})
		if err := os.WriteFile(filepath.Join(dir, image.ManifestFile), mb, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Boot(ctx, dir, Options{WaitExit: true, BzImage: true, Timeout: time.Minute})
		return err
	}
	const ready = `echo 'DEVICE-READY {}'; `
	if err := boot(ready+`exit 0`, context.Background()); err != nil {
		t.Errorf("Boot(power off) = %v, want nil", err)
	}
	var ee *exec.ExitError
	if err := boot(ready+`exit 3`, context.Background()); !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("Boot(exit 3 after ready) = %v, want QEMU's exit status 3", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	if err := boot(ready+`exec sleep 600`, ctx); err != nil || time.Since(start) > 30*time.Second {
		t.Errorf("Boot(ctx cancelled after ready) = %v after %v, want nil soon", err, time.Since(start))
	}
	if err := boot(`exec sleep 600`, ctx); !errors.Is(err, ErrNotReady) {
		t.Errorf("Boot(ctx cancelled before ready) = %v, want ErrNotReady", err)
	}
}

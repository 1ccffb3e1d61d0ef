//go:build linux

package sdcard_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/oemkit/messenger/feature/timesvc/timesvctest"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/image/sdcard"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/sysgen/design"
)

const (
	deviceAccount = "pi@lab.test"
	devicePass    = "pi pass 3"
)

// lab runs messengerd on loopback with the device's account and returns
// its address line (guest listener, HTTPS nexus, CA file).
func lab(t *testing.T, ctx context.Context, root, work string) (info struct{ Guest, HTTPS, Nexus, CA string }, log *syncBuffer) {
	t.Helper()
	bin := filepath.Join(work, "messengerd")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./messengerd")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./messengerd: %v\n%s", err, out)
	}
	data := filepath.Join(work, "lab")
	add := exec.CommandContext(ctx, bin, "user", "add", "-data", data, deviceAccount)
	add.Stdin = strings.NewReader(devicePass + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("messengerd user add: %v\n%s", err, out)
	}
	serve := exec.Command(bin, "serve", "-data", data, "-addr", "127.0.0.1:0", "-guest-addr", "127.0.0.1:0", "-https", "127.0.0.1:0")
	serve.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphan when the test is killed
	log = &syncBuffer{}
	serve.Stderr = log
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := serve.Start(); err != nil {
		t.Fatalf("start messengerd: %v", err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	br := bufio.NewReader(stdout)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("messengerd printed no address line: %v\n%s", err, log)
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.Guest == "" {
		t.Fatalf("messengerd address line %q: %v", line, err)
	}
	go io.Copy(io.Discard, br)
	return info, log
}

// syncBuffer is a bytes.Buffer the process writes while the test reads.
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

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestRaspberryPi3BootsInQEMU builds the Messenger image for the rpi3 BSP,
// writes its SD card image, takes the kernel, the device tree, the
// initramfs and the command line back out of the card's FAT boot partition
// and boots them in QEMU's raspi3b machine with the card as its SD card and
// a USB NIC (QEMU's usb-net on the DWC2 host). The device must reach its
// ready line with 10.0.2.15 on the USB NIC and the state partition of the
// card mounted, and msmsgs on it must sign in to the lab service on the
// host (10.0.2.2). The console log shows what the board's hardware did.
func TestRaspberryPi3BootsInQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("raspi3b QEMU boot skipped in -short mode")
	}
	testenv.Tool(t, "qemu-system-aarch64", "apt-get install qemu-system-arm")
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	if _, err := os.Stat(filepath.Join(sdcard.FirmwareDir, "bootcode.bin")); err != nil {
		testenv.Missing(t, "Raspberry Pi firmware: %v (scripts/install-deps installs raspi-firmware)", err)
	}
	root := imagetest.Root(t)
	imagetest.Kernel(t, "rpi3")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	work := t.TempDir()
	info, labLog := lab(t, ctx, root, work)
	// The Pi has no real-time clock: it boots in 1970 and TLS to the
	// nexus fails until the time service has set the clock, here from
	// chronyd on the host.
	ntp := timesvctest.StartChrony(t)

	designFile := filepath.Join(work, "osdesign.toml")
	if err := os.WriteFile(designFile, []byte(fmt.Sprintf(`bsp = "rpi3"
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
"timesvc.server" = "10.0.2.2:%d"
`, info.CA, port(info.Guest), port(info.HTTPS), deviceAccount, devicePass, ntp.Port)), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := design.Load(design.Source{Catalog: root, File: designFile})
	if err != nil {
		t.Fatalf("design.Load: %v", err)
	}
	spec, err := d.Spec()
	if err != nil {
		t.Fatalf("design spec: %v", err)
	}
	imgDir := filepath.Join(work, "image")
	start := time.Now()
	if _, err := image.Build(ctx, spec, imgDir, image.WithModuleDir(root)); err != nil {
		t.Fatalf("image.Build(rpi3) = %v", err)
	}
	buildTook := time.Since(start)
	card := filepath.Join(work, "sd.img")
	start = time.Now()
	lay, err := sdcard.WriteImage(ctx, imgDir, card, "")
	if err != nil {
		t.Fatalf("sdcard.WriteImage = %v", err)
	}
	t.Logf("image built in %v, SD card image (%d MiB) written in %v", buildTook.Round(time.Millisecond), lay.Size>>20, time.Since(start).Round(time.Millisecond))
	again := filepath.Join(work, "sd-again.img")
	if _, err := sdcard.WriteImage(ctx, imgDir, again, ""); err != nil {
		t.Fatalf("sdcard.WriteImage again = %v", err)
	}
	if !sameFile(t, card, again) {
		t.Errorf("two SD card images of the same image folder differ")
	}
	os.Remove(again)

	// Boot what the card holds, not the image folder.
	b, err := sdcard.Extract(card, filepath.Join(work, "fromcard"))
	if err != nil {
		t.Fatalf("sdcard.Extract = %v", err)
	}
	m := b.Manifest
	if want, _ := image.ReadManifest(imgDir); m.InitramfsSHA256 != want.InitramfsSHA256 || m.Cmdline != want.Cmdline {
		t.Errorf("the card's manifest and cmdline.txt differ from the image folder's")
	}
	cfg, err := sdcard.ReadBootFile(card, sdcard.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"arm_64bit=1", "kernel=" + sdcard.KernelFile, "initramfs " + sdcard.InitramfsFile, "device_tree=bcm2837-rpi-3-b.dtb"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.txt on the card lacks %q", want)
		}
	}
	logf, err := os.Create(filepath.Join(work, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	vm, err := qemu.StartManifest(ctx, m, b.Dir, qemu.Options{Console: logf})
	if err != nil {
		t.Fatalf("qemu.StartManifest = %v", err)
	}
	defer vm.Stop()
	t.Logf("QEMU: %s", strings.Join(vm.Argv(), " "))
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf(format+"\nconsole:\n%s\nmessengerd:\n%s", append(a, qemu.Tail(vm.Console(), 60), qemu.Tail(labLog.String(), 20))...)
	}
	ready, err := vm.WaitMarker(ctx, qemu.MarkerReady, 10*time.Minute)
	if err != nil {
		fail("device did not report ready: %v", err)
	}
	init, _ := vm.Marker(qemu.MarkerInit)
	drv, _ := vm.Marker(qemu.MarkerDrivers)
	t.Logf("raspi3b: /init after %v, ready after %v", init.At.Round(time.Millisecond), ready.At.Round(time.Millisecond))
	t.Logf("drivers: %s", drv.Payload)
	var rep struct {
		UptimeMS   int64 `json:"uptime_ms"`
		Interfaces []struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addrs"`
		} `json:"interfaces"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(ready.Payload), &rep); err != nil {
		fail("ready line %q: %v", ready.Payload, err)
	}
	nic := ""
	for _, i := range rep.Interfaces {
		for _, a := range i.Addrs {
			if a == "10.0.2.15/24" {
				nic = i.Name
			}
		}
	}
	if nic == "" {
		t.Errorf("ready: interfaces %+v, want 10.0.2.15/24 on the USB NIC", rep.Interfaces)
	}
	if !strings.HasPrefix(rep.State, "/dev/mmcblk0p2 on /var/lib") {
		t.Errorf("ready: state %q, want the card's partition 2 (/dev/mmcblk0p2) mounted on /var/lib", rep.State)
	}
	start = time.Now()
	out, rc, err := vm.Run(ctx, "msmsgs ctl wait-signin -timeout 240s", 5*time.Minute)
	if err != nil || rc != 0 {
		fail("msmsgs ctl wait-signin: exit %d, %v: %s", rc, err, out)
	}
	t.Logf("msmsgs signed in as %s %v after ready (guest uptime at ready %.1fs); NIC %s", deviceAccount, time.Since(start).Round(time.Millisecond), float64(rep.UptimeMS)/1000, nic)
	// What the board's drivers said, for the report of what QEMU emulates.
	if dm, _, err := vm.Run(ctx, "dmesg", time.Minute); err == nil {
		for _, l := range strings.Split(dm, "\n") {
			if strings.Contains(l, "vchiq") || strings.Contains(l, "cdc_ether") || strings.Contains(l, "mmc0") || strings.Contains(l, "bcm2835-rng") || strings.Contains(l, "smsc95xx") || strings.Contains(l, "crng") {
				t.Logf("dmesg: %s", strings.TrimSpace(l))
			}
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", qemu.Tail(vm.Console(), 80))
	}
}

func sameFile(t *testing.T, a, b string) bool {
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

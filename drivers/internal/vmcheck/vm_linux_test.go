package main

import (
	"bufio"
	"context"
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

	"github.com/oemkit/messenger/drivers/kmod/modinfo"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/u-root/u-root/pkg/cpio"
)

// machine is how QEMU emulates a BSP's hardware for this test.
type machine struct {
	arch    string // GOARCH and Debian architecture
	bsp     string // the BSP whose kernel it boots
	qemu    string
	args    []string // machine, CPU, NIC, RNG and audio devices
	console string
	modules []string
	// capture: the codec is a duplex one on a "none" backend (silence in,
	// nothing out): check capture instead of the tone.
	capture bool
}

var machines = []machine{
	{"amd64", "qemu-x86_64", "qemu-system-x86_64", []string{"-accel", "tcg",
		"-device", "virtio-net-pci,netdev=n0,romfile=", "-device", "virtio-rng-pci",
		"-device", "intel-hda", "-device", "hda-output,audiodev=a0"},
		"ttyS0", []string{"virtio_pci", "virtio_rng", "virtio_net", "snd_hda_codec_generic", "snd_hda_intel"}, false},
	{"arm64", "qemu-aarch64", "qemu-system-aarch64", []string{"-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg",
		"-device", "virtio-net-device,netdev=n0", "-device", "virtio-rng-device",
		"-device", "intel-hda", "-device", "hda-output,audiodev=a0"},
		"ttyAMA0", []string{"virtio_mmio", "virtio_rng", "virtio_net", "snd_hda_codec_generic", "snd_hda_intel"}, false},
	{"amd64", "qemu-x86_64", "qemu-system-x86_64", []string{"-accel", "tcg",
		"-device", "virtio-net-pci,netdev=n0,romfile=", "-device", "virtio-rng-pci",
		"-audiodev", "none,id=a1", "-device", "intel-hda", "-device", "hda-duplex,audiodev=a1"},
		"ttyS0", []string{"virtio_pci", "virtio_rng", "virtio_net", "snd_hda_codec_generic", "snd_hda_intel"}, true},
}

// TestQEMUDrivers boots the drivers as /init under QEMU (TCG) with a
// virtio-net NIC, virtio-rng and an intel-hda codec (virtio on PCI for
// amd64, on virtio-mmio for arm64 virt), and checks DHCP, a TCP round trip
// to the host, and the tone in QEMU's WAV output. The machines boot in
// parallel.
func TestQEMUDrivers(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU three times (about a minute)")
	}
	for _, m := range machines {
		name := m.arch
		if m.capture {
			name += "-capture"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testMachine(t, m)
		})
	}
}

func testMachine(t *testing.T, mc machine) {
	testenv.Tool(t, mc.qemu, "apt-get install qemu-system-x86 qemu-system-arm")
	k := imagetest.Kernel(t, mc.bsp)
	dir := t.TempDir()

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	initBin := filepath.Join(dir, "init")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", initBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+mc.arch)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	initramfs := filepath.Join(dir, "initramfs.cpio")
	if err := writeInitramfs(initramfs, initBin, k.ModulesDir(), mc.modules); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				fmt.Fprintf(c, "echo: %s", line)
			}()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port

	wav := filepath.Join(dir, "out.wav")
	m := &image.Manifest{BSP: mc.bsp, GOARCH: mc.arch, Initramfs: initramfs,
		Cmdline: fmt.Sprintf("console=%s quiet vmcheck.dial=10.0.2.2:%d", mc.console, port),
		Kernel:  image.ManifestKernel{File: k.Vmlinuz, SHA256: kernelSHA256(t, k.Vmlinuz)},
		QEMU: append([]string{mc.qemu, "-m", "512", "-nographic", "-no-reboot",
			"-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}",
			"-netdev", "user,id=n0", "-audiodev", "wav,id=a0,path={wav}"}, mc.args...)}
	start := time.Now()
	vm, err := qemu.StartManifest(ctx, m, dir, qemu.Options{WAV: wav})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Stop()
	res, err := vm.Expect(ctx, regexp.MustCompile(`VMCHECK (OK|FAIL.*)`), 6*time.Minute)
	if err == nil {
		// The guest reboots; QEMU (-no-reboot) exits and finishes the WAV.
		err = vm.Wait(ctx)
	}
	console := vm.Console()
	t.Logf("QEMU ran %v (PVH %v); console:\n%s", time.Since(start).Round(time.Millisecond), vm.PVH(), console)
	if err != nil {
		t.Fatalf("qemu: %v", err)
	}
	if res[1] != "OK" {
		t.Fatalf("guest reported VMCHECK %s", res[1])
	}
	if !strings.Contains(console, "VMCHECK OK") {
		t.Fatalf("guest did not report VMCHECK OK")
	}
	for _, want := range []string{"addr 10.0.2.15/24", "gw 10.0.2.2", "echoed \"echo: hello from the guest\\n\"", "nameserver 10.0.2.3"} {
		if !strings.Contains(console, want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if mc.capture {
		// The driver opens the card at the smallest exact multiple of
		// the wanted rate it takes (16 kHz on QEMU's HDA).
		m := captureLine.FindStringSubmatch(console)
		if m == nil {
			t.Errorf("console lacks a successful 1600-frame capture")
		} else if hw, _ := strconv.Atoi(m[1]); hw%8000 != 0 {
			t.Errorf("capture ran the hardware at %d Hz, not a multiple of 8000 Hz", hw)
		}
		return
	}
	w, err := qemu.ReadWAV(wav)
	if err != nil {
		t.Fatal(err)
	}
	if ok, ratio := qemu.ToneCheck(w, 1000); !ok {
		t.Errorf("WAV (%d Hz, %d ch, %d frames): 1 kHz stands %.1fx above other tones in its loudest half second, want a clear 1 kHz tone", w.Rate, w.Channels, len(w.Mono()), ratio)
	} else {
		t.Logf("WAV %d Hz %d ch: 1 kHz stands %.0fx above other tones", w.Rate, w.Channels, ratio)
	}
}

// writeInitramfs writes a newc cpio with /init, the device folders and the
// closure of modules.
func writeInitramfs(path, initBin, modDir string, modules []string) error {
	x, err := modinfo.BuildIndex(modDir)
	if err != nil {
		return err
	}
	mods, err := x.Closure(modules...)
	if err != nil {
		return err
	}
	var files []string
	for _, m := range mods {
		files = append(files, m.Path)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := cpio.Newc.Writer(f)
	rel := filepath.Join("lib", "modules", filepath.Base(modDir))
	recs := []cpio.Record{cpio.Directory("dev", 0o755), cpio.Directory("proc", 0o755), cpio.Directory("sys", 0o755),
		cpio.Directory("etc", 0o755), cpio.Directory("tmp", 0o1777), cpio.CharDev("dev/console", 0o600, 5, 1)}
	dirs := map[string]bool{}
	var mkdirs func(d string)
	mkdirs = func(d string) {
		if d == "." || dirs[d] {
			return
		}
		mkdirs(filepath.Dir(d))
		dirs[d] = true
		recs = append(recs, cpio.Directory(d, 0o755))
	}
	for _, fl := range files {
		b, err := os.ReadFile(filepath.Join(modDir, fl))
		if err != nil {
			return err
		}
		p := filepath.Join(rel, fl)
		mkdirs(filepath.Dir(p))
		recs = append(recs, cpio.StaticFile(p, string(b), 0o644))
	}
	// The index the device's loader reads instead of the modules' ELF.
	for name, b := range modinfo.IndexFiles(mods) {
		recs = append(recs, cpio.StaticFile(filepath.Join(rel, name), string(b), 0o644))
	}
	if b, err := os.ReadFile(filepath.Join(modDir, "modules.builtin")); err == nil {
		recs = append(recs, cpio.StaticFile(filepath.Join(rel, "modules.builtin"), string(b), 0o644))
	}
	bin, err := os.ReadFile(initBin)
	if err != nil {
		return err
	}
	recs = append(recs, cpio.StaticFile("init", string(bin), 0o755), cpio.TrailerRecord)
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			return err
		}
	}
	return f.Close()
}

func kernelSHA256(t *testing.T, p string) string {
	t.Helper()
	sum, err := fsutil.SHA256(p)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// captureLine is the guest's report of a good 8 kHz capture.
var captureLine = regexp.MustCompile(`captured 1600 frames at 8000 Hz mono \(hardware (\d+) Hz 2 ch\), err <nil>`)

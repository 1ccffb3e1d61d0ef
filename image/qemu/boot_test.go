package qemu

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/internal/testenv"
)

// TestBootNotReady boots the real Debian kernel with an initramfs that has no
// init: the kernel panics, QEMU exits (-no-reboot), and Boot must report
// ErrNotReady with the console's last lines.
func TestBootNotReady(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	k := imagetest.Kernel(t, "qemu-x86_64")
	dir := t.TempDir()
	kb, err := os.ReadFile(k.Vmlinuz)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "vmlinuz"), kb, 0o644); err != nil {
		t.Fatal(err)
	}
	// An empty newc archive: just the trailer.
	trailer := "07070100000000000000000000000000000000000000010000000000000000000000000000000000000000000000000000000b00000000TRAILER!!!\x00\x00\x00\x00"
	if err := os.WriteFile(filepath.Join(dir, "initramfs.cpio"), []byte(trailer), 0o644); err != nil {
		t.Fatal(err)
	}
	m := image.Manifest{
		BSP: "qemu-x86_64", GOARCH: "amd64", Initramfs: "initramfs.cpio", Cmdline: "console=ttyS0 panic=-1",
		Kernel: image.ManifestKernel{File: "vmlinuz", SHA256: fmt.Sprintf("%x", sha256.Sum256(kb))},
		QEMU: []string{"qemu-system-x86_64", "-accel", "tcg", "-m", "256", "-nographic", "-no-reboot",
			"-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}"},
	}
	b, _ := json.Marshal(m)
	if err := os.WriteFile(filepath.Join(dir, image.ManifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := Boot(context.Background(), dir, Options{Timeout: 4 * time.Minute})
	if !errors.Is(err, ErrNotReady) {
		t.Fatalf("Boot(no init) = %v, want ErrNotReady", err)
	}
	if !strings.Contains(err.Error(), "QEMU exited") || !strings.Contains(err.Error(), "Kernel panic") {
		t.Errorf("Boot(no init) error = %v, want QEMU exited and the kernel panic in the console tail", err)
	}
	if res == nil || res.ToReady != 0 {
		t.Errorf("Boot(no init) result = %+v, want a result without ready time", res)
	}
	t.Logf("not-ready detected after %v (PVH %v)", time.Since(start), res.PVH)
}

func TestArgv(t *testing.T) {
	m := &image.Manifest{Cmdline: "console=ttyS0 quiet", Initramfs: "initramfs.cpio.zst", Kernel: image.ManifestKernel{File: "vmlinuz"},
		QEMU: []string{"qemu-system-x86_64", "-kernel", "{kernel}", "-initrd", "{initrd}", "-append", "{append}", "-audiodev", "wav,id=a0,path={wav}"}}
	got := Argv(m, "/img", "/tmp/a.wav", []string{"devicetest.tone=1000"})
	want := []string{"qemu-system-x86_64", "-kernel", "/img/vmlinuz", "-initrd", "/img/initramfs.cpio.zst", "-append", "console=ttyS0 quiet devicetest.tone=1000", "-audiodev", "wav,id=a0,path=/tmp/a.wav"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Argv() = %q, want %q", got, want)
	}
}

package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/qemu"
)

// TestBootUEFIRefuses: an image folder without a disk image says how to
// get one; --append does not apply to a loader-entry boot.
func TestBootUEFIRefuses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"bsp":"qemu-aarch64","initramfs":"i","kernel":{"file":"k"}}`), 0o644)
	_, stderr, code := run(t, nil, "boot", "--uefi", "--check", dir)
	if code != 1 || !strings.Contains(stderr, "without a disk.img") || !strings.Contains(stderr, "systemd-boot-efi") {
		t.Errorf("boot --uefi of a folder without disk.img: exit %d, %q; want 1 saying how to get one", code, stderr)
	}
	m := `{"bsp":"qemu-x86_64","initramfs":"i","kernel":{"file":"k"},"disk":{"file":"disk.img"}}`
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(m), 0o644)
	_, stderr, code = run(t, nil, "boot", "--uefi", "--append", "x=1", dir)
	if code != 1 || !strings.Contains(stderr, "loader entry") {
		t.Errorf("boot --uefi --append: exit %d, %q; want 1 saying the loader entry has the command line", code, stderr)
	}
}

// TestBootUEFI builds an image with a state partition and boots its
// disk.img with sysgen boot --uefi --check: OVMF, systemd-boot, slot A,
// the device ready with the state partition of the disk mounted; the
// built disk image is unchanged (the boot ran on a copy).
func TestBootUEFI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and boots it under OVMF")
	}
	imagetest.UEFI(t, qemu.OVMFCode)
	imagetest.Kernel(t, "qemu-x86_64")
	out := filepath.Join(t.TempDir(), "img")
	if _, stderr, code := run(t, []string{"SYSGEN_STATEFS=1", "SYSGEN_WATCHDOG=1"}, "build", "-o", out); code != 0 {
		t.Fatalf("sysgen build: exit %d: %s", code, stderr)
	}
	m, err := image.ReadManifest(out)
	if err != nil || m.Disk == nil {
		t.Fatalf("manifest: %v, disk %v; want a disk image", err, m)
	}
	stdout, stderr, code := run(t, nil, "boot", "--uefi", "--check", out)
	t.Logf("sysgen boot --uefi --check:\n%s", stdout)
	if code != 0 {
		t.Fatalf("sysgen boot --uefi --check: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "device ready:") || !strings.Contains(stdout, "vda2") {
		t.Errorf("boot --uefi output lacks the ready line with the disk's state partition (vda2)")
	}
	f, err := os.Open(filepath.Join(out, m.Disk.File))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	if got := hex.EncodeToString(h.Sum(nil)); got != m.Disk.SHA256 {
		t.Errorf("disk.img sha256 after the boot = %s, want %s as built", got, m.Disk.SHA256)
	}
}

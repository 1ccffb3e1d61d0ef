// Package imagetest gives tests what they need from the build host: the
// unpacked Debian kernel of a BSP, fetched through the same code and cache
// as sysgen build (so no test depends on another package having run
// first), and the project root.
package imagetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/modroot"
	"github.com/oemkit/messenger/internal/testenv"
)

// Root returns the project folder (the one holding go.mod).
func Root(t testing.TB) string {
	t.Helper()
	root, err := modroot.Find(".")
	if err != nil {
		t.Fatalf("%v: run the test inside the project", err)
	}
	return root
}

// Kernel returns the unpacked kernel package of the BSP (qemu-x86_64,
// qemu-aarch64), downloading it with apt-get into the sysgen cache the
// first time. Without apt-get and dpkg-deb it skips (fails under CI=true).
func Kernel(t testing.TB, bsp string) *image.Kernel {
	t.Helper()
	testenv.Tool(t, "apt-get", "fetching the Debian kernel needs a Debian host with apt-get")
	testenv.Tool(t, "dpkg-deb", "apt-get install dpkg")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	k, err := image.FetchBSPKernel(ctx, filepath.Join(Root(t), "bsp", bsp, "feature.toml"))
	if err != nil {
		t.Fatalf("kernel of BSP %s: %v", bsp, err)
	}
	return k
}

// UEFI fails the test under CI=true (skips elsewhere) unless the host can
// boot a disk image under OVMF: QEMU, the OVMF firmware at ovmfCode
// (qemu.OVMFCode) and systemd-boot for the image's ESP.
func UEFI(t testing.TB, ovmfCode string) {
	t.Helper()
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	if _, err := os.Stat(ovmfCode); err != nil {
		testenv.Missing(t, "OVMF is missing: apt-get install ovmf")
	}
	if _, err := os.Stat("/usr/lib/systemd/boot/efi/systemd-bootx64.efi"); err != nil {
		testenv.Missing(t, "systemd-boot is missing: apt-get install systemd-boot-efi")
	}
}

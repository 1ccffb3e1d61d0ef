package qemu

import (
	"errors"
	"os"
	"testing"

	"github.com/oemkit/messenger/image/imagetest"
)

func TestExtractVmlinuxRejects(t *testing.T) {
	for _, b := range [][]byte{nil, make([]byte, 0x300), []byte("MZ not a kernel")} {
		if _, err := extractVmlinux(b); !errors.Is(err, errNoPVH) {
			t.Errorf("extractVmlinux(%d bytes) = %v, want errNoPVH", len(b), err)
		}
	}
}

// TestPVHDebianKernel unpacks the BSP's Debian amd64 kernel (fetched into
// the cache if needed).
func TestPVHDebianKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a 66 MB kernel")
	}
	k := imagetest.Kernel(t, "qemu-x86_64")
	b, err := os.ReadFile(k.Vmlinuz)
	if err != nil {
		t.Fatal(err)
	}
	elf, err := extractVmlinux(b)
	if err != nil {
		t.Fatalf("extractVmlinux(%s) = %v", k.Vmlinuz, err)
	}
	if len(elf) < len(b) {
		t.Errorf("extractVmlinux gave %d bytes, want more than the %d-byte bzImage", len(elf), len(b))
	}
	cache := t.TempDir()
	p, err := pvhKernel(k.Vmlinuz, "test", cache)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() != int64(len(elf)) {
		t.Errorf("pvhKernel wrote %v (%v), want the %d-byte ELF", fi, err, len(elf))
	}
	if p2, err := pvhKernel("/nonexistent", "test", cache); err != nil || p2 != p {
		t.Errorf("pvhKernel again = %q, %v, want the cached %q", p2, err, p)
	}
}

func FuzzExtractVmlinux(f *testing.F) {
	hdr := make([]byte, 0x300)
	copy(hdr[0x202:], "HdrS")
	f.Add(hdr)
	f.Add([]byte("MZ"))
	f.Fuzz(func(t *testing.T, b []byte) {
		extractVmlinux(b)
	})
}

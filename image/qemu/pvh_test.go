package qemu

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestExtractVmlinuxRejects(t *testing.T) {
	for _, b := range [][]byte{nil, make([]byte, 0x300), []byte("MZ not a kernel")} {
		if _, err := extractVmlinux(b); !errors.Is(err, errNoPVH) {
			t.Errorf("extractVmlinux(%d bytes) = %v, want errNoPVH", len(b), err)
		}
	}
}

// TestPVHDebianKernel unpacks the cached Debian amd64 kernel, if present.
func TestPVHDebianKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("unpacks a 66 MB kernel")
	}
	m, _ := filepath.Glob(os.ExpandEnv("$HOME/.cache/oemkit-sysgen/kernel/linux-image-*-amd64*/boot/vmlinuz-*"))
	if len(m) == 0 {
		t.Skip("no cached amd64 Debian kernel (sysgen build fetches it)")
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	elf, err := extractVmlinux(b)
	if err != nil {
		t.Fatalf("extractVmlinux(%s) = %v", m[0], err)
	}
	if len(elf) < len(b) {
		t.Errorf("extractVmlinux gave %d bytes, want more than the %d-byte bzImage", len(elf), len(b))
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

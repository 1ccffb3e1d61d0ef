package qemu

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/fsutil"
)

// Under TCG an x86 bzImage spends most of its boot unpacking itself (Debian
// compresses it with xz): 20-30 s on a loaded 2-core host. QEMU can instead
// start the same kernel's ELF image through its PVH entry point, skipping the
// decompressor. pvhKernel extracts that ELF once into the cache folder; the
// image folder (and what a real device boots) keeps the bzImage.

// xenElfnotePhys32Entry is the ELF note that marks a PVH entry point.
const xenElfnotePhys32Entry = 18

var errNoPVH = errors.New("qemu: kernel has no PVH entry")

// pvhKernel returns the path of the PVH-bootable ELF kernel inside the
// bzImage at path, extracting it into cacheDir on first use.
func pvhKernel(path, sha256, cacheDir string) (string, error) {
	out := filepath.Join(cacheDir, "pvh", sha256+".elf")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("qemu: %w", err)
	}
	elfBytes, err := extractVmlinux(b)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("qemu: %w", err)
	}
	if err := fsutil.WriteFileAtomic(out, elfBytes, 0o644); err != nil {
		return "", fmt.Errorf("qemu: %w", err)
	}
	return out, nil
}

// extractVmlinux unpacks the xz payload of an x86 bzImage and checks that it
// is an ELF kernel with a PVH entry note.
func extractVmlinux(bz []byte) ([]byte, error) {
	if len(bz) < 0x260 || string(bz[0x202:0x206]) != "HdrS" {
		return nil, fmt.Errorf("%w: not an x86 bzImage", errNoPVH)
	}
	setupSects := int(bz[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	payloadOff := int(binary.LittleEndian.Uint32(bz[0x248:]))
	payloadLen := int(binary.LittleEndian.Uint32(bz[0x24c:]))
	start := (setupSects+1)*512 + payloadOff
	if payloadOff == 0 || start+payloadLen > len(bz) || payloadLen < 6 {
		return nil, fmt.Errorf("%w: bzImage payload out of range", errNoPVH)
	}
	payload := bz[start : start+payloadLen]
	if !bytes.HasPrefix(payload, []byte{0xfd, '7', 'z', 'X', 'Z', 0}) {
		return nil, fmt.Errorf("%w: bzImage payload is not xz", errNoPVH)
	}
	// The payload uses xz's x86 BCJ filter, which the pure-Go xz package
	// lacks: use the xz program (Debian xz-utils, priority required).
	cmd := exec.Command("xz", "-dc", "--single-stream")
	cmd.Stdin = bytes.NewReader(payload)
	vmlinux, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: xz -dc (apt-get install xz-utils): %v", errNoPVH, err)
	}
	if !hasPVHNote(vmlinux) {
		return nil, errNoPVH
	}
	return vmlinux, nil
}

// hasPVHNote reports whether an ELF image carries XEN_ELFNOTE_PHYS32_ENTRY.
func hasPVHNote(b []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		d := make([]byte, p.Filesz)
		if _, err := p.ReadAt(d, 0); err != nil {
			continue
		}
		for len(d) >= 12 {
			nsz := int(f.ByteOrder.Uint32(d[0:]))
			dsz := int(f.ByteOrder.Uint32(d[4:]))
			typ := f.ByteOrder.Uint32(d[8:])
			name := d[12:]
			if nsz > len(name) {
				break
			}
			if string(bytes.TrimRight(name[:nsz], "\x00")) == "Xen" && typ == xenElfnotePhys32Entry {
				return true
			}
			next := 12 + (nsz+3)&^3 + (dsz+3)&^3
			if next > len(d) || next <= 0 {
				break
			}
			d = d[next:]
		}
	}
	return false
}

// fastKernel returns the kernel path QEMU should load for the image: the
// PVH ELF for an x86 bzImage that has one, else the image's own kernel.
func fastKernel(m *image.Manifest, dir string) (string, bool) {
	k := joinDir(dir, m.Kernel.File)
	if m.GOARCH != "amd64" {
		return k, false
	}
	cache, err := image.CacheDir()
	if err != nil {
		return k, false
	}
	p, err := pvhKernel(k, m.Kernel.SHA256, cache)
	if err != nil {
		return k, false
	}
	return p, true
}

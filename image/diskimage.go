package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemkit/messenger/image/disk"
)

// wantsDisk reports whether the board gets a UEFI disk image (x86-64).
func wantsDisk(spec Spec) bool { return spec.GOARCH == "amd64" }

// writeDisk writes the disk image next to outDir (moved into the image
// folder with the other files) and returns its path and manifest entry.
// Without systemd-boot on the build host it returns ("", nil, nil) and
// the build goes on without a disk image.
func writeDisk(spec Spec, man *Manifest, outDir string, kernel, initramfs []byte) (string, *ManifestDisk, error) {
	efi, version, err := disk.Loader()
	if errors.Is(err, disk.ErrLoader) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	slotMan, err := marshalJSON(man)
	if err != nil {
		return "", nil, fmt.Errorf("image: disk: %w", err)
	}
	parent := filepath.Dir(filepath.Clean(outDir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", nil, fmt.Errorf("image: disk: %w", err)
	}
	f, err := os.CreateTemp(parent, ".disk-*.img")
	if err != nil {
		return "", nil, fmt.Errorf("image: disk: %w", err)
	}
	p := f.Name()
	f.Close()
	os.Remove(p)
	layout, err := disk.Write(p, disk.Spec{
		Board:  spec.BSP,
		Loader: efi,
		A:      &disk.Slot{Kernel: kernel, Initramfs: initramfs, Manifest: slotMan, Cmdline: spec.Cmdline, Generation: 1},
	})
	if err != nil {
		return "", nil, err
	}
	sum, err := fileSHA256(p)
	if err != nil {
		os.Remove(p)
		return "", nil, err
	}
	return p, &ManifestDisk{
		File: DiskFile, Size: layout.Size, SHA256: sum, Layout: layout,
		LoaderPackage: disk.LoaderPackage, LoaderVersion: version, LoaderSHA256: sha256Hex(efi),
	}, nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("image: %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

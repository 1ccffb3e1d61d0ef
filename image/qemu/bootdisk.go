package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/disk"
)

// ErrNoDisk is wrapped when an image folder has no flashable disk image.
var ErrNoDisk = errors.New("qemu: the image folder has no disk image")

// BootDisk boots the image folder's flashable disk image (disk.img) under
// OVMF, as the board boots its storage (StartDisk): the image is first
// flashed (image/disk.Flash, read back and checked) to a copy in a new
// folder, with a fresh UEFI variable store, so the built image stays as
// it is; the copy is removed afterwards. It waits for the ready marker
// (and opts.WaitFor) like Boot, within opts.Timeout (default 5 minutes:
// the firmware and the loader come first). opts.Append is not used: the
// command line is the loader entry's.
func BootDisk(ctx context.Context, dir string, opts Options) (*Result, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if m.Disk == nil {
		return nil, fmt.Errorf("%w: %s was built for %s without a disk.img (boards that boot by UEFI get one when the build host has systemd-boot: apt-get install systemd-boot-efi, then sysgen build again)", ErrNoDisk, dir, m.BSP)
	}
	if len(opts.Append) > 0 {
		return nil, errors.New("qemu: a UEFI boot takes its kernel command line from the loader entry on the disk; --append does not apply")
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	img, err := disk.OpenImage(filepath.Join(dir, m.Disk.File))
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "sysgen-uefi-")
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	defer os.RemoveAll(work)
	dev := filepath.Join(work, "device.img")
	if err := disk.Flash(ctx, img, dev, disk.FlashOptions{Board: m.BSP}); err != nil {
		return nil, err
	}
	vars, err := NewVars(work)
	if err != nil {
		return nil, err
	}
	v, err := StartDisk(ctx, m, dev, vars, opts)
	if err != nil {
		return nil, err
	}
	return waitReady(ctx, v, opts, timeout, "UEFI boot of "+m.Disk.File+": ")
}

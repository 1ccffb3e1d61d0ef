package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	res := &Result{Argv: v.Argv(), WAV: v.WAV(), Markers: map[string]string{}}
	want := append([]string{MarkerReady}, opts.WaitFor...)
	var waitErr error
	for _, w := range want {
		if _, waitErr = v.WaitMarker(ctx, w, 0); waitErr != nil {
			break
		}
	}
	if waitErr == nil && opts.WaitExit {
		if err := v.Wait(ctx); ctx.Err() == nil {
			waitErr = err
		}
	}
	v.Stop()
	res.Console = v.Console()
	v.mu.Lock()
	for name, mk := range v.markers {
		if name != MarkerInit {
			res.Markers[name] = mk.Payload
		}
	}
	v.mu.Unlock()
	if mk, ok := v.Marker(MarkerInit); ok {
		res.ToInit = mk.At
	}
	if mk, ok := v.Marker(MarkerUinit); ok {
		res.ToUinit = mk.At
	}
	if mk, ok := v.Marker(MarkerReady); ok {
		res.ToReady = mk.At
	}
	res.GuestUinit = uptime(res.Markers[MarkerUinit])
	res.GuestReady = uptime(res.Markers[MarkerReady])
	var missing []string
	for _, w := range want {
		if _, ok := res.Markers[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		why := "timed out after " + timeout.String()
		if errors.Is(waitErr, ErrExited) {
			why = "QEMU exited"
		} else if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			why = ctx.Err().Error()
		}
		return res, fmt.Errorf("%w: UEFI boot of %s: %s, missing %s; last console lines:\n%s", ErrNotReady, m.Disk.File, why, strings.Join(missing, ", "), Tail(res.Console, 30))
	}
	if opts.WaitExit && waitErr != nil {
		return res, waitErr
	}
	return res, nil
}

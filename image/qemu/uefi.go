package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/image"
)

// OVMF is Debian's UEFI firmware for QEMU (package ovmf): the code is
// read-only, the variable store is copied per VM (NewVars).
const (
	OVMFCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	OVMFVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// ErrNoOVMF is wrapped when the UEFI firmware is missing.
var ErrNoOVMF = errors.New("qemu: UEFI firmware missing (apt-get install ovmf)")

// NewVars copies OVMF's empty variable store to a new file in dir, one per
// device: the firmware keeps its boot entries there across reboots.
func NewVars(dir string) (string, error) {
	src, err := os.Open(OVMFVars)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoOVMF, err)
	}
	defer src.Close()
	p := filepath.Join(dir, "OVMF_VARS.fd")
	dst, err := os.Create(p)
	if err != nil {
		return "", fmt.Errorf("qemu: %w", err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return "", fmt.Errorf("qemu: copy %s: %w", OVMFVars, err)
	}
	if err := dst.Close(); err != nil {
		return "", fmt.Errorf("qemu: %w", err)
	}
	return p, nil
}

// DiskArgv turns the BSP's QEMU command line into one that boots the
// flashable disk image under OVMF, as a board boots from its storage: no
// -kernel, -initrd or -append (the loader on the disk reads the kernel,
// initramfs and command line of the slot it picks), the disk in place of
// the state disk ({state}), the firmware as two pflash drives. -no-reboot
// is dropped, so a reboot of the guest (an update, a rollback) resets the
// machine in the same QEMU process and the console goes on.
func DiskArgv(m *image.Manifest, disk, vars, wav string) []string {
	var out []string
	hasDisk := false
	for i := 0; i < len(m.QEMU); i++ {
		a := m.QEMU[i]
		switch a {
		case "-kernel", "-initrd", "-append":
			i++
			continue
		case "-no-reboot":
			continue
		}
		if strings.Contains(a, "{state}") {
			hasDisk = true
		}
		a = strings.NewReplacer("{state}", disk, "{wav}", wav).Replace(a)
		out = append(out, a)
	}
	if !hasDisk && len(out) > 0 {
		out = append(out, "-drive", "file="+disk+",format=raw,if=virtio")
	}
	return append(out,
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+OVMFCode,
		"-drive", "if=pflash,format=raw,unit=1,file="+vars)
}

// StartDisk boots the disk image under OVMF with the BSP's QEMU command line
// (DiskArgv), its variable store in vars (NewVars). opts.Append is not used:
// the command line is the loader entry's. The disk is written by the guest:
// pass a copy to keep the built image as it is.
func StartDisk(ctx context.Context, m *image.Manifest, disk, vars string, opts Options) (*VM, error) {
	if len(m.QEMU) == 0 {
		return nil, errors.New("qemu: the manifest has no QEMU command line; the BSP cannot be booted in QEMU")
	}
	if _, err := exec.LookPath(m.QEMU[0]); err != nil {
		return nil, fmt.Errorf("qemu: %s not found (apt-get install %s): %w", m.QEMU[0], aptPackage(m.QEMU[0]), err)
	}
	if _, err := os.Stat(OVMFCode); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoOVMF, err)
	}
	if _, err := os.Stat(disk); err != nil {
		return nil, fmt.Errorf("qemu: disk image: %w", err)
	}
	wav, rmWAV := "", false
	if usesWAV(m) {
		wav = opts.WAV
		if wav == "" {
			f, err := os.CreateTemp("", "sysgen-boot-*.wav")
			if err != nil {
				return nil, fmt.Errorf("qemu: %w", err)
			}
			f.Close()
			wav, rmWAV = f.Name(), true
		}
	}
	base := append(DiskArgv(m, disk, vars, wav), opts.ExtraArgs...)
	for try := 0; ; try++ {
		hosts, auto, err := pickPorts(opts.Forward)
		if err != nil {
			return nil, err
		}
		args, err := withForwards(base, opts.Forward, hosts)
		if err != nil {
			return nil, err
		}
		v, err := launch(ctx, args, hosts, opts.Console)
		if err == nil {
			v.wav, v.rmWAV = wav, rmWAV
			return v, nil
		}
		if !errors.Is(err, ErrPortInUse) || !auto || try == 2 {
			if rmWAV {
				os.Remove(wav)
			}
			return nil, err
		}
	}
}

package sdcard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemkit/messenger/image"
)

// Board says how the SD card of one BSP is made.
type Board struct {
	// BSP is the board support package name in the image manifest.
	BSP string
	// DTB is the device tree's path inside the kernel package, with
	// {release} for the kernel release.
	DTB string
	// Firmware are the GPU firmware files taken from FirmwareDir.
	Firmware []string
}

// Boards are the BSPs that boot from an SD card.
var Boards = map[string]Board{
	"rpi3": {
		BSP: "rpi3",
		DTB: "usr/lib/linux-image-{release}/broadcom/bcm2837-rpi-3-b.dtb",
		// The Pi 3's boot chain; start4*/fixup4* are the Pi 4's.
		Firmware: []string{"bootcode.bin", "start.elf", "fixup.dat"},
	},
}

// Where Debian's raspi-firmware package puts the firmware and its licence.
const (
	FirmwarePackage = "raspi-firmware"
	FirmwareDir     = "/usr/lib/raspi-firmware"
	FirmwareLicence = "/usr/share/doc/raspi-firmware/copyright"
	// LicenceFile is the licence's name on the boot partition.
	LicenceFile = "LICENCE.broadcom"
)

// ErrWrongBoard is wrapped when the image folder is for a board that does
// not boot from an SD card.
var ErrWrongBoard = errors.New("sdcard: the image is not for a board that boots from an SD card")

// ErrFirmware is wrapped when the GPU firmware files are missing.
var ErrFirmware = errors.New("sdcard: Raspberry Pi firmware missing (apt-get install raspi-firmware, from Debian's non-free-firmware component; scripts/install-deps adds it)")

// FromImage makes the SD card Spec for a built image folder (sysgen build
// -o DIR): its kernel, initramfs, command line and manifest, the device
// tree from the unpacked kernel package k (the one the manifest names),
// and the firmware files from fwDir ("" means FirmwareDir).
func FromImage(dir string, k *image.Kernel, fwDir string) (Spec, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return Spec{}, err
	}
	b, ok := Boards[m.BSP]
	if !ok {
		return Spec{}, fmt.Errorf("%w: %s is built for BSP %q; SD card images exist for %s (sysgen build --bsp rpi3)", ErrWrongBoard, dir, m.BSP, strings.Join(boardNames(), ", "))
	}
	if k.Release != m.Kernel.Release {
		return Spec{}, fmt.Errorf("sdcard: the kernel package is %s but the image was built with %s: rebuild the image", k.Release, m.Kernel.Release)
	}
	if fwDir == "" {
		fwDir = FirmwareDir
	}
	s := Spec{Board: b.BSP, Firmware: map[string][]byte{}, Cmdline: m.Cmdline}
	for _, n := range b.Firmware {
		data, err := os.ReadFile(filepath.Join(fwDir, n))
		if err != nil {
			return Spec{}, fmt.Errorf("%w: %v", ErrFirmware, err)
		}
		s.Firmware[n] = data
	}
	// The licence: beside the firmware in a given folder, else where the
	// Debian package puts it.
	lic, err := os.ReadFile(filepath.Join(fwDir, LicenceFile))
	if err != nil {
		if lic, err = os.ReadFile(FirmwareLicence); err != nil {
			return Spec{}, fmt.Errorf("%w: the licence: %v", ErrFirmware, err)
		}
	}
	s.Firmware[LicenceFile] = lic
	dtb := filepath.Join(k.Root, filepath.FromSlash(strings.ReplaceAll(b.DTB, "{release}", k.Release)))
	if s.DTB, err = os.ReadFile(dtb); err != nil {
		return Spec{}, fmt.Errorf("sdcard: the kernel package %s has no device tree %s: %w", filepath.Base(k.Deb), b.DTB, err)
	}
	s.DTBName = filepath.Base(dtb)
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{m.Kernel.File, &s.Kernel}, {m.Initramfs, &s.Initramfs}, {image.ManifestFile, &s.Manifest}} {
		if *f.dst, err = os.ReadFile(filepath.Join(dir, f.name)); err != nil {
			return Spec{}, fmt.Errorf("sdcard: image folder %s: %w (rebuild it with sysgen build)", dir, err)
		}
	}
	return s, nil
}

// ImageName is the SD card image's file name in a built image folder.
const ImageName = "sdcard.img"

// KernelPackage is the kernel package an image manifest names, as
// image.FetchKernel takes it.
func KernelPackage(m *image.Manifest) image.KernelPackage {
	return image.KernelPackage{Name: m.Kernel.Package, Version: m.Kernel.Version, Arch: m.Kernel.Arch,
		SHA256: m.Kernel.DebSHA, Vmlinuz: "boot/vmlinuz-" + m.Kernel.Release, License: m.Kernel.License}
}

// WriteImage writes the SD card image of the built image folder dir to
// file: the kernel package the manifest names is fetched (once, into the
// sysgen cache) for the device tree.
func WriteImage(ctx context.Context, dir, file, fwDir string) (*Layout, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if _, ok := Boards[m.BSP]; !ok {
		return nil, fmt.Errorf("%w: %s is built for BSP %q; SD card images exist for %s (sysgen build --bsp rpi3)", ErrWrongBoard, dir, m.BSP, strings.Join(boardNames(), ", "))
	}
	cache, err := image.CacheDir()
	if err != nil {
		return nil, err
	}
	k, err := image.FetchKernel(ctx, KernelPackage(m), m.Kernel.Arch, cache, nil)
	if err != nil {
		return nil, err
	}
	s, err := FromImage(dir, k, fwDir)
	if err != nil {
		return nil, err
	}
	return Write(file, s)
}

func boardNames() []string {
	var out []string
	for n := range Boards {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Boot is a system taken back out of an SD card image, to boot in QEMU.
type Boot struct {
	// Manifest is the card's manifest.json with the kernel and initramfs
	// pointing at the extracted files, the command line from cmdline.txt
	// and the QEMU template's {dtb} and {sdcard} filled in; boot it with
	// qemu.StartManifest.
	Manifest *image.Manifest
	// Dir holds the extracted files.
	Dir string
}

// Extract reads the kernel, initramfs, device tree, cmdline.txt and
// manifest.json from the card's boot partition into dir (created), so a
// boot runs exactly what the card carries, as the Pi's firmware would load
// it. The card itself is the QEMU machine's SD card ({sdcard}).
func Extract(card, dir string) (*Boot, error) {
	mb, err := ReadBootFile(card, ManifestFile)
	if err != nil {
		return nil, err
	}
	m, err := image.ParseManifest(mb)
	if err != nil {
		return nil, fmt.Errorf("sdcard: %s: %w", card, err)
	}
	b, ok := Boards[m.BSP]
	if !ok {
		return nil, fmt.Errorf("%w: %s holds an image for BSP %q", ErrWrongBoard, card, m.BSP)
	}
	dtb := filepath.Base(b.DTB)
	files, err := ReadBootFiles(card, KernelFile, InitramfsFile, dtb, CmdlineFile)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sdcard: %w", err)
	}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o644); err != nil {
			return nil, fmt.Errorf("sdcard: %w", err)
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("sdcard: %w", err)
	}
	cardAbs, err := filepath.Abs(card)
	if err != nil {
		return nil, fmt.Errorf("sdcard: %w", err)
	}
	m.Kernel.File = filepath.Join(abs, KernelFile)
	m.Initramfs = filepath.Join(abs, InitramfsFile)
	m.Cmdline = strings.TrimSpace(string(files[CmdlineFile]))
	r := strings.NewReplacer("{dtb}", filepath.Join(abs, dtb), "{sdcard}", cardAbs)
	for i, a := range m.QEMU {
		m.QEMU[i] = r.Replace(a)
	}
	return &Boot{Manifest: m, Dir: abs}, nil
}

// Package sdcard writes the SD card image a Raspberry Pi boots from, without
// root or loop devices: an MBR partition table, a FAT32 boot partition
// with what the Pi's GPU firmware reads, and the ext4 state partition.
//
// Layout (MBR type, contents):
//
//	1  0x0c FAT32 (LBA), "BOOT"  bootcode.bin, start.elf, fixup.dat (Debian's
//	                            raspi-firmware), LICENCE.broadcom, config.txt,
//	                            cmdline.txt, vmlinuz, initrd.img, the device
//	                            tree, manifest.json
//	2  0x83 Linux, ext4 "state"  the device's persistent state (/var/lib)
//
// The boot ROM loads bootcode.bin from the first FAT partition, which loads
// start.elf (the GPU firmware, with fixup.dat), which reads config.txt:
// arm_64bit=1 starts the cores in AArch64, kernel= and initramfs name the
// kernel and initramfs, device_tree= the device tree, into which it writes
// cmdline.txt and the memory size before it jumps to the kernel.
//
// The image size is a power of two (QEMU's SD card model takes no other),
// the disk signature is derived from the board name, every time stamp is
// fixed: identical inputs give a byte-identical image.
package sdcard

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/mbr"
	"github.com/oemkit/messenger/image/internal/partfs"
)

// Defaults for the layout.
const (
	// DefaultSize is the whole image: 256 MiB.
	DefaultSize = 256 << 20
	// DefaultBootSize is the FAT32 boot partition: room for two systems
	// (kernel and initramfs) beside the firmware.
	DefaultBootSize = 128 << 20
	// SourceDateEpoch is the fixed time stamp of every file.
	SourceDateEpoch = 946684800 // 2000-01-01
	sector          = 512
	firstLBA        = 2048 // 1 MiB alignment, as the Pi's imager writes
	// MaxFile bounds one file read back from an image.
	MaxFile = 256 << 20
)

// Partition numbers.
const (
	BootPartition  = 1
	StatePartition = 2
)

// Files on the boot partition that Write always puts there.
const (
	ConfigFile    = "config.txt"
	CmdlineFile   = "cmdline.txt"
	KernelFile    = "vmlinuz"
	InitramfsFile = "initrd.img"
	ManifestFile  = "manifest.json"
)

// Spec is what goes on the card.
type Spec struct {
	// Board names the image; the disk signature is derived from it.
	Board string
	// Firmware are the GPU firmware files by name (bootcode.bin, ...).
	Firmware map[string][]byte
	// Kernel, Initramfs and DTB are the system; DTBName is the device
	// tree's file name on the card.
	Kernel, Initramfs, DTB []byte
	DTBName                string
	// Cmdline is the kernel command line (cmdline.txt).
	Cmdline string
	// Config is config.txt; "" means ConfigTxt(DTBName).
	Config string
	// Manifest is the image manifest (manifest.json), or nil.
	Manifest []byte
	// Size and BootSize are the image and boot partition sizes; 0 means
	// the defaults. Size must be a power of two.
	Size, BootSize int64
}

// Layout describes a written image.
type Layout struct {
	Size       int64       `json:"size"`
	Signature  string      `json:"disk_signature"`
	Partitions []Partition `json:"partitions"`
	// Files are the boot partition's files with their sha256.
	Files []File `json:"files"`
}

// Partition is one MBR entry.
type Partition struct {
	Index int    `json:"index"`
	Type  string `json:"type"`
	Label string `json:"label"`
	Start int64  `json:"start"`
	Size  int64  `json:"size"`
}

// File is one file on the boot partition.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ErrSpec is wrapped by every error about an invalid Spec.
var ErrSpec = errors.New("sdcard: invalid spec")

// ConfigTxt is the config.txt for a 64-bit kernel with an initramfs and the
// named device tree. enable_uart=1 fixes the core clock so the mini UART
// (the console on GPIO 14/15) keeps its baud rate.
func ConfigTxt(dtb string) string {
	return "# Written by sysgen: the GPU firmware reads this before it starts the kernel.\n" +
		"arm_64bit=1\n" +
		"kernel=" + KernelFile + "\n" +
		"initramfs " + InitramfsFile + " followkernel\n" +
		"device_tree=" + dtb + "\n" +
		"enable_uart=1\n" +
		"disable_splash=1\n"
}

// BootFiles returns every file of the boot partition, keyed by name.
func BootFiles(s Spec) map[string][]byte {
	files := map[string][]byte{}
	for n, b := range s.Firmware {
		files[n] = b
	}
	cfg := s.Config
	if cfg == "" {
		cfg = ConfigTxt(s.DTBName)
	}
	files[ConfigFile] = []byte(cfg)
	files[CmdlineFile] = []byte(strings.TrimSpace(s.Cmdline) + "\n")
	files[KernelFile] = s.Kernel
	files[InitramfsFile] = s.Initramfs
	files[s.DTBName] = s.DTB
	if s.Manifest != nil {
		files[ManifestFile] = s.Manifest
	}
	return files
}

func (s *Spec) validate() error {
	if s.Size == 0 {
		s.Size = DefaultSize
	}
	if s.BootSize == 0 {
		s.BootSize = DefaultBootSize
	}
	switch {
	case s.Board == "":
		return fmt.Errorf("%w: no board name", ErrSpec)
	case s.Size <= 0 || s.Size&(s.Size-1) != 0:
		return fmt.Errorf("%w: image size %d is not a power of two (QEMU's SD card and most SD tools want one)", ErrSpec, s.Size)
	case s.Size > 1<<40:
		return fmt.Errorf("%w: image size %d is over the MBR's 2 TiB", ErrSpec, s.Size)
	case s.BootSize < 64<<20 || s.BootSize%(1<<20) != 0:
		return fmt.Errorf("%w: boot partition size %d: want whole MiB, at least 64 MiB (FAT32 needs 65525 clusters)", ErrSpec, s.BootSize)
	case firstLBA*sector+s.BootSize+16<<20 > s.Size:
		return fmt.Errorf("%w: a %d MiB image has no room for a %d MiB boot partition and a 16 MiB state partition", ErrSpec, s.Size>>20, s.BootSize>>20)
	case len(s.Kernel) == 0 || len(s.Initramfs) == 0 || len(s.DTB) == 0:
		return fmt.Errorf("%w: kernel, initramfs and device tree are all needed", ErrSpec)
	case s.DTBName == "" || strings.ContainsAny(s.DTBName, "/\\") || !strings.HasSuffix(s.DTBName, ".dtb"):
		return fmt.Errorf("%w: device tree name %q: want a plain file name ending in .dtb", ErrSpec, s.DTBName)
	case strings.ContainsAny(s.Cmdline, "\r\n"):
		return fmt.Errorf("%w: the kernel command line must be one line (the firmware reads the first line of cmdline.txt)", ErrSpec)
	}
	for n := range s.Firmware {
		if n == "" || strings.ContainsAny(n, "/\\") {
			return fmt.Errorf("%w: firmware file name %q: want a plain file name", ErrSpec, n)
		}
	}
	if _, ok := s.Firmware["bootcode.bin"]; !ok {
		return fmt.Errorf("%w: no bootcode.bin among the firmware files (apt-get install raspi-firmware)", ErrSpec)
	}
	return nil
}

// Signature returns the MBR disk signature derived from the board name (the
// first half of PARTUUIDs, e.g. "1a2b3c4d-02").
func Signature(board string) uint32 {
	h := sha256.Sum256([]byte("oemkit-sysgen-sdcard\x00" + board))
	return binary.LittleEndian.Uint32(h[:4])
}

// Write writes the SD card image to file (replaced atomically).
func Write(file string, s Spec) (*Layout, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	files := BootFiles(s)
	var need int64
	for _, b := range files {
		need += int64(len(b)) + 4096
	}
	if need > s.BootSize*9/10 {
		return nil, fmt.Errorf("sdcard: the boot partition (%d MiB) cannot hold %d MiB of boot files; raise the boot partition size", s.BootSize>>20, need>>20)
	}
	bootStart := int64(firstLBA)
	bootSectors := s.BootSize / sector
	stStart := bootStart + bootSectors
	stSectors := s.Size/sector - stStart
	sig := Signature(s.Board)
	layout := &Layout{Size: s.Size, Signature: fmt.Sprintf("%08x", sig), Partitions: []Partition{
		{Index: BootPartition, Type: "0x0c", Label: "BOOT", Start: bootStart * sector, Size: bootSectors * sector},
		{Index: StatePartition, Type: "0x83", Label: "state", Start: stStart * sector, Size: stSectors * sector},
	}}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sum := sha256.Sum256(files[n])
		layout.Files = append(layout.Files, File{Name: n, Size: int64(len(files[n])), SHA256: fmt.Sprintf("%x", sum)})
	}

	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("sdcard: %w", err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	os.Remove(tmpName) // diskfs.Create wants a new file
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpName)
		}
	}()
	state, err := partfs.FormatExt4(dir, "state", stateUUID(s.Board), stSectors*sector, SourceDateEpoch)
	if err != nil {
		return nil, fmt.Errorf("sdcard: state partition: %w", err)
	}
	defer os.Remove(state)

	d, err := diskfs.Create(tmpName, s.Size, diskfs.SectorSizeDefault)
	if err != nil {
		return nil, fmt.Errorf("sdcard: create %s: %w", file, err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	table := &mbr.Table{LogicalSectorSize: sector, PhysicalSectorSize: sector, Partitions: []*mbr.Partition{
		{Index: BootPartition, Bootable: true, Type: mbr.Fat32LBA, Start: uint32(bootStart), Size: uint32(bootSectors)},
		{Index: StatePartition, Type: mbr.Linux, Start: uint32(stStart), Size: uint32(stSectors)},
	}}
	if err := d.Partition(table); err != nil {
		return nil, fmt.Errorf("sdcard: partition table: %w", err)
	}
	boot := make(map[string][]byte, len(files))
	for n, b := range files {
		boot["/"+n] = b
	}
	// go-diskfs stamps FAT entries only from SOURCE_DATE_EPOCH: WithEpoch
	// sets it for this write alone.
	err = partfs.WithEpoch(SourceDateEpoch, func() error {
		fs, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: BootPartition, FSType: filesystem.TypeFat32, VolumeLabel: "BOOT", Reproducible: true})
		if err != nil {
			return fmt.Errorf("sdcard: boot file system: %w", err)
		}
		if err := partfs.WriteFiles(fs, boot); err != nil {
			return fmt.Errorf("sdcard: boot %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	closed = true
	if err := d.Close(); err != nil {
		return nil, fmt.Errorf("sdcard: %w", err)
	}
	if err := finish(tmpName, state, stStart*sector, sig); err != nil {
		return nil, err
	}
	if err := os.Rename(tmpName, file); err != nil {
		return nil, fmt.Errorf("sdcard: %w", err)
	}
	ok = true
	return layout, nil
}

// finish copies the state file system into the image at off, leaving its
// all-zero blocks as holes (the image file is sparse, reads give zeros),
// puts the disk signature at byte 440 of the MBR (go-diskfs leaves it
// zero) and syncs the file.
func finish(file, state string, off int64, sig uint32) error {
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sdcard: %w", err)
	}
	err = partfs.CopyNonZero(f, state, off)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], sig)
	if err == nil {
		_, err = f.WriteAt(b[:], 440)
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sdcard: %w", err)
	}
	return nil
}

// ErrNotSDCard is wrapped when a file is not an SD card image this package
// reads (no MBR, no FAT32 boot partition).
var ErrNotSDCard = errors.New("sdcard: not a Raspberry Pi SD card image")

// ReadBootFile reads one file from the boot partition of the image.
func ReadBootFile(image, name string) ([]byte, error) {
	m, err := ReadBootFiles(image, name)
	if err != nil {
		return nil, err
	}
	return m[name], nil
}

// ReadBootFiles reads the named files from the boot partition of the
// image; a missing file is an error naming it.
func ReadBootFiles(image string, names ...string) (map[string][]byte, error) {
	if err := checkMBR(image); err != nil {
		return nil, err
	}
	d, err := diskfs.Open(image, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, fmt.Errorf("sdcard: open %s: %w", image, err)
	}
	defer d.Close()
	fs, err := d.GetFilesystem(BootPartition)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: partition 1 is not FAT32: %v", ErrNotSDCard, image, err)
	}
	out := map[string][]byte{}
	for _, n := range names {
		f, err := fs.OpenFile("/"+n, os.O_RDONLY)
		if err != nil {
			return nil, fmt.Errorf("sdcard: %s: no %s on the boot partition: %w", image, n, err)
		}
		b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("sdcard: %s: read %s: %w", image, n, err)
		}
		if len(b) > MaxFile {
			return nil, fmt.Errorf("sdcard: %s: %s is over %d MiB", image, n, MaxFile>>20)
		}
		out[n] = b
	}
	return out, nil
}

// checkMBR checks the boot signature and that the first partition is FAT32
// (LBA) inside the file, before go-diskfs parses anything.
func checkMBR(image string) error {
	f, err := os.Open(image)
	if err != nil {
		return fmt.Errorf("sdcard: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("sdcard: %w", err)
	}
	var b [512]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return fmt.Errorf("%w: %s is %d bytes, shorter than an MBR", ErrNotSDCard, image, st.Size())
	}
	return CheckMBR(b[:], st.Size())
}

// CheckMBR checks a first sector: the 0x55AA signature, partition 1 of
// type 0x0c (or 0x0b) lying inside a disk of size bytes.
func CheckMBR(b []byte, size int64) error {
	if len(b) < 512 || !bytes.Equal(b[510:512], []byte{0x55, 0xaa}) {
		return fmt.Errorf("%w: no MBR boot signature (a truncated or corrupt image? write it again with sysgen sdcard)", ErrNotSDCard)
	}
	e := b[446:462]
	if e[4] != 0x0c && e[4] != 0x0b {
		return fmt.Errorf("%w: partition 1 has type 0x%02x, want FAT32 (0x0c)", ErrNotSDCard, e[4])
	}
	start := int64(binary.LittleEndian.Uint32(e[8:12])) * sector
	n := int64(binary.LittleEndian.Uint32(e[12:16])) * sector
	if start == 0 || n == 0 || start+n > size {
		return fmt.Errorf("%w: partition 1 (%d bytes at %d) does not fit the %d-byte image (truncated?)", ErrNotSDCard, n, start, size)
	}
	return nil
}

// stateUUID is the state file system's UUID, fixed by the board name.
func stateUUID(board string) string {
	h := sha256.Sum256([]byte("oemkit-sysgen-sdcard-state\x00" + board))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// Package disk writes a flashable GPT disk image for a UEFI board without
// root or loop devices: an EFI system partition with systemd-boot, one
// loader entry per system slot (A and B, each slot's kernel and initramfs
// in its own folder on the ESP) and the state partition, formatted ext4.
//
// Layout (partition label, GPT type):
//
//	1 "ESP"          EFI system partition, FAT32: \EFI\BOOT\BOOTX64.EFI
//	                 (systemd-boot), \loader\loader.conf,
//	                 \loader\entries\sysgen-NNNN-S[+L-D].conf, \slot-a\,
//	                 \slot-b\ (vmlinuz, initrd, manifest.json)
//	2 "sysgen-state" Linux filesystem data, ext4 labelled "state"
//
// The slots live on the ESP because systemd-boot loads kernels only from
// the ESP (and one XBOOTLDR partition); the whole system is the kernel and
// its initramfs, so a slot is those files. systemd-boot (252, Debian
// bookworm) sorts entries with no tries left after all others and boots
// the first of the rest, highest generation NNNN first: an update
// (feature/update) is a new generation in the other slot with one try
// ("+1-0"); the loader renames it "+0-1" as it boots it, and the new system
// renames it to drop the counter (marks it good) after its health checks.
// If it does not, the next boot finds no tries left and starts the previous
// generation. Checked under OVMF by feature/update's TestUpdateUnderOVMF.
//
// Linux finds the partitions by GPT name: the device init mounts
// "sysgen-state" on /var/lib and, with SYSGEN_UPDATE, "ESP" on /boot/efi.
//
// GUIDs are derived from the board name, timestamps are fixed: identical
// inputs give a byte-identical image.
package disk

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"github.com/oemkit/messenger/feature/update"
	"github.com/oemkit/messenger/image/internal/partfs"
)

// Partition labels; the device finds its partitions by these.
const (
	ESPLabel   = "ESP"
	StateLabel = "sysgen-state"
)

// Defaults for the layout.
const (
	DefaultESPSize   = 160 << 20
	DefaultStateSize = 64 << 20
	// SourceDateEpoch is the fixed time stamp of every file system object.
	SourceDateEpoch = 946684800 // 2000-01-01
	sector          = 512
	firstLBA        = 2048 // 1 MiB alignment
)

// LoaderPath is systemd-boot in Debian's systemd-boot-efi package.
const LoaderPath = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

// ErrLoader is wrapped when systemd-boot is missing.
var ErrLoader = errors.New("disk: systemd-boot is missing (apt-get install systemd-boot-efi)")

// Slot is one system: a kernel with its EFI stub, an initramfs, the
// command line and the image manifest it came from.
type Slot struct {
	Kernel, Initramfs, Manifest []byte
	Cmdline                     string
	// Generation orders the slots: the loader boots the highest one.
	Generation int
	// Tries, when > 0, gives the entry a boot counter (a trial boot).
	Tries int
}

// Spec is what goes on the disk.
type Spec struct {
	// Board names the image (GUIDs are derived from it).
	Board string
	// Loader is systemd-bootx64.efi.
	Loader []byte
	// A is slot A; B is slot B or nil (empty slot).
	A *Slot
	B *Slot
	// ESPSize and StateSize are partition sizes; 0 means the defaults.
	ESPSize, StateSize int64
}

// Layout describes a written image.
type Layout struct {
	Size       int64       `json:"size"`
	DiskGUID   string      `json:"disk_guid"`
	Partitions []Partition `json:"partitions"`
}

// Partition is one GPT entry.
type Partition struct {
	Index int    `json:"index"`
	Label string `json:"label"`
	Type  string `json:"type"`
	GUID  string `json:"guid"`
	Start int64  `json:"start"`
	Size  int64  `json:"size"`
}

// GUID derives a stable RFC 4122 version-5-style GUID from names.
func GUID(names ...string) string {
	h := sha256.Sum256([]byte("oemkit-sysgen-disk\x00" + strings.Join(names, "\x00")))
	b := h[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// LoaderConf boots the first entry at once (no menu) and never edits it.
const LoaderConf = "timeout 0\neditor no\nauto-entries no\nauto-firmware no\n"

// ESPFiles returns every file of the ESP, keyed by path.
func ESPFiles(s Spec) map[string][]byte {
	files := map[string][]byte{
		"/EFI/BOOT/BOOTX64.EFI": s.Loader,
		"/loader/loader.conf":   []byte(LoaderConf),
	}
	for _, sl := range []struct {
		name string
		s    *Slot
	}{{"a", s.A}, {"b", s.B}} {
		if sl.s == nil {
			continue
		}
		files["/slot-"+sl.name+"/vmlinuz"] = sl.s.Kernel
		files["/slot-"+sl.name+"/initrd"] = sl.s.Initramfs
		if sl.s.Manifest != nil {
			files["/slot-"+sl.name+"/manifest.json"] = sl.s.Manifest
		}
		files["/loader/entries/"+update.EntryFile(sl.name, sl.s.Generation, sl.s.Tries)] = []byte(update.EntryText(sl.name, sl.s.Generation, sl.s.Cmdline))
	}
	return files
}

// Write writes the disk image to file (replaced atomically).
func Write(file string, s Spec) (*Layout, error) {
	if len(s.Loader) == 0 {
		return nil, ErrLoader
	}
	if s.A == nil {
		return nil, errors.New("disk: slot A is empty; an image needs a system to boot")
	}
	if s.ESPSize == 0 {
		s.ESPSize = DefaultESPSize
	}
	if s.StateSize == 0 {
		s.StateSize = DefaultStateSize
	}
	files := ESPFiles(s)
	var need int64
	for _, b := range files {
		need += int64(len(b)) + 4096
	}
	// Room for the other slot's update next to the two slots.
	if need > s.ESPSize*9/10 {
		return nil, fmt.Errorf("disk: the ESP (%d MiB) cannot hold %d MiB of boot files; raise the ESP size", s.ESPSize>>20, need>>20)
	}
	espStart := int64(firstLBA)
	espEnd := espStart + s.ESPSize/sector - 1
	stStart := espEnd + 1
	stEnd := stStart + s.StateSize/sector - 1
	// Backup GPT: 33 sectors at the end.
	total := (stEnd + 1 + 33) * sector
	total = (total + 1<<20 - 1) &^ (1<<20 - 1)

	layout := &Layout{Size: total, DiskGUID: GUID(s.Board, "disk")}
	parts := []*gpt.Partition{
		{Index: 1, Start: uint64(espStart), End: uint64(espEnd), Type: gpt.EFISystemPartition, Name: ESPLabel, GUID: GUID(s.Board, ESPLabel)},
		{Index: 2, Start: uint64(stStart), End: uint64(stEnd), Type: gpt.LinuxFilesystem, Name: StateLabel, GUID: GUID(s.Board, StateLabel)},
	}
	for i, p := range parts {
		layout.Partitions = append(layout.Partitions, Partition{Index: i + 1, Label: p.Name, Type: string(p.Type), GUID: p.GUID,
			Start: int64(p.Start) * sector, Size: int64(p.End-p.Start+1) * sector})
	}

	dir := filepath.Dir(file)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("disk: %w", err)
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
	state, err := partfs.FormatExt4(dir, "state", strings.ToLower(GUID(s.Board, "state-fs")), s.StateSize, SourceDateEpoch)
	if err != nil {
		return nil, fmt.Errorf("disk: state partition: %w", err)
	}
	defer os.Remove(state)

	d, err := diskfs.Create(tmpName, total, diskfs.SectorSizeDefault)
	if err != nil {
		return nil, fmt.Errorf("disk: create %s: %w", file, err)
	}
	closed := false
	defer func() {
		if !closed {
			d.Close()
		}
	}()
	table := &gpt.Table{Partitions: parts, LogicalSectorSize: sector, PhysicalSectorSize: sector, ProtectiveMBR: true, GUID: layout.DiskGUID}
	if err := d.Partition(table); err != nil {
		return nil, fmt.Errorf("disk: partition table: %w", err)
	}
	// go-diskfs stamps FAT entries only from SOURCE_DATE_EPOCH: WithEpoch
	// sets it for this write alone.
	err = partfs.WithEpoch(SourceDateEpoch, func() error {
		fs, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 1, FSType: filesystem.TypeFat32, VolumeLabel: "ESP", Reproducible: true})
		if err != nil {
			return fmt.Errorf("disk: ESP file system: %w", err)
		}
		if err := partfs.WriteFiles(fs, files); err != nil {
			return fmt.Errorf("disk: ESP %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	closed = true
	if err := d.Close(); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	// The state file system is mostly zeros: copy only its other blocks
	// (the image file reads zeros where nothing was written).
	if err := copyState(tmpName, state, stStart*sector); err != nil {
		return nil, fmt.Errorf("disk: state partition: %w", err)
	}
	if err := os.Chmod(tmpName, 0o644); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	if err := os.Rename(tmpName, file); err != nil {
		return nil, fmt.Errorf("disk: %w", err)
	}
	ok = true
	return layout, nil
}

// LoaderPackage is the Debian package that ships systemd-boot.
const LoaderPackage = "systemd-boot-efi"

// Loader reads systemd-boot from the build host and names its package
// version (from dpkg; "" when dpkg does not know it).
func Loader() (efi []byte, version string, err error) {
	efi, err = os.ReadFile(LoaderPath)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrLoader, err)
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", LoaderPackage).Output(); err == nil {
		version = strings.TrimSpace(string(out))
	}
	return efi, version, nil
}

// copyState copies the state file system into the image file at off,
// without its zero blocks.
func copyState(file, state string, off int64) error {
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	err = partfs.CopyNonZero(f, state, off)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

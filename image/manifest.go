package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/oemkit/messenger/image/disk"
)

// Output file names inside an image folder.
const (
	ManifestFile = "manifest.json"
	KernelFile   = "vmlinuz"
	SizeJSONFile = "size.json"
	SizeSVGFile  = "size.svg"
	SBOMFile     = "sbom.cdx.json"
	// DiskFile is the flashable disk image (UEFI boards).
	DiskFile = "disk.img"
)

// Manifest describes a built image; it is written to manifest.json.
type Manifest struct {
	// BSP is the board support package the image is for.
	BSP string `json:"bsp"`
	// GOARCH is the device architecture.
	GOARCH string `json:"goarch"`
	// Kernel is the kernel file and the package it came from.
	Kernel ManifestKernel `json:"kernel"`
	// Initramfs is the compressed initramfs file name in the folder.
	Initramfs string `json:"initramfs"`
	// Compression is "zstd", "xz" or "gzip".
	Compression string `json:"compression"`
	// InitramfsSize and InitramfsSHA256 describe the compressed initramfs.
	InitramfsSize   int64  `json:"initramfs_size"`
	InitramfsSHA256 string `json:"initramfs_sha256"`
	// CPIOSize is the uncompressed archive size.
	CPIOSize int64 `json:"cpio_size"`
	// Cmdline is the kernel command line.
	Cmdline string `json:"cmdline"`
	// QEMU is the BSP's QEMU argv template (see Spec.QEMU).
	QEMU []string `json:"qemu"`
	// Budget is the BSP's size budget in bytes (0: none).
	Budget int64 `json:"budget"`
	// Features are the selected feature ids.
	Features []string `json:"features"`
	// BuildTags are the Go build tags the commands were built with.
	BuildTags []string `json:"build_tags"`
	// Commands are the Go commands in the busybox binary.
	Commands []Command `json:"commands"`
	// Services are started by the device init.
	Services []Service `json:"services"`
	// Files lists every entry in the initramfs, sorted by path.
	Files []FileEntry `json:"files"`
	// GoShares estimates how the busybox binary (/bbin/bb, feature "go")
	// splits by feature.
	GoShares []GoShare `json:"go_shares"`
	// Disk is the flashable disk image, when the board boots by UEFI
	// and the build host has systemd-boot.
	Disk *ManifestDisk `json:"disk,omitempty"`
	// SDCard is the SD card image, when the board boots from one (sysgen
	// build writes it after the rest of the folder and RecordSDCard adds
	// it here).
	SDCard *ManifestSDCard `json:"sdcard,omitempty"`
}

// ManifestSDCard describes the SD card image: the file, its MBR
// partitions, the boot partition's files and the GPU firmware package
// they came from.
type ManifestSDCard struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Partitions is the number of MBR partitions (boot, state).
	Partitions int `json:"partitions"`
	// BootFiles are the boot partition's files with their sha256.
	BootFiles []ManifestFileHash `json:"boot_files"`
	// Firmware is the Debian package of the GPU firmware on the card.
	FirmwarePackage string `json:"firmware_package"`
	FirmwareVersion string `json:"firmware_version,omitempty"`
	// FirmwareFiles name the boot files that are the package's.
	FirmwareFiles []string `json:"firmware_files"`
}

// ManifestFileHash is a file with its size and sha256.
type ManifestFileHash struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ManifestDisk describes the disk image: its GPT layout and the boot
// loader it carries.
type ManifestDisk struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Layout is the GPT partition table.
	Layout *disk.Layout `json:"layout"`
	// Loader is systemd-boot: Debian package, version and file hash.
	LoaderPackage string `json:"loader_package"`
	LoaderVersion string `json:"loader_version"`
	LoaderSHA256  string `json:"loader_sha256"`
}

// ManifestKernel is the kernel part of the manifest.
type ManifestKernel struct {
	Package string `json:"package"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	DebSHA  string `json:"deb_sha256"`
	Release string `json:"release"`
	File    string `json:"file"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	License string `json:"license"`
}

// FileEntry is one entry of the initramfs.
type FileEntry struct {
	// Path is the absolute path in the image.
	Path string `json:"path"`
	// Type is "file", "dir", "symlink" or "dev".
	Type string `json:"type"`
	// Mode is the permission bits in octal.
	Mode string `json:"mode"`
	// Size is the content size in bytes (link target length for symlinks).
	Size int64 `json:"size"`
	// SHA256 is the content hash of regular files.
	SHA256 string `json:"sha256,omitempty"`
	// Target is a symlink's target.
	Target string `json:"target,omitempty"`
	// Feature is the feature (or "base") that put the entry there.
	Feature string `json:"feature"`
	// Module is the kernel module name for module files.
	Module string `json:"module,omitempty"`
	// Compressed estimates the entry's share of the compressed initramfs.
	Compressed int64 `json:"compressed"`
}

// ReadManifest reads dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("image: %s is not an image folder (run sysgen build -o %s first): %w", dir, dir, err)
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("image: %s: %w (rebuild the image)", filepath.Join(dir, ManifestFile), err)
	}
	return m, nil
}

// ParseManifest parses and checks manifest.json content.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("image: manifest: %w", err)
	}
	if m.Initramfs == "" || m.Kernel.File == "" {
		return nil, fmt.Errorf("image: manifest: no kernel or initramfs named")
	}
	for _, n := range []string{m.Initramfs, m.Kernel.File} {
		if n != filepath.Base(n) || n == "." || n == ".." {
			return nil, fmt.Errorf("image: manifest: file name %q must be a plain name inside the image folder", n)
		}
	}
	return &m, nil
}

// marshalJSON renders v as indented JSON with a final newline.
func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

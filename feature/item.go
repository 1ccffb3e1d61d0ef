// Package feature is the OS design catalog: the model of one catalog item
// (an OS feature, a driver or a board support package), the strict loader
// for the feature.toml manifests that live beside each item's code, and the
// checks that make a catalog well formed.
//
// One folder is one item: its feature.toml says what the item is, what it
// needs, what it adds to an image and which network ports it uses. The
// sysgen resolver (package sysgen/resolve) turns a set of selected items into
// the closure the device needs.
package feature

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind says what sort of catalog item a manifest describes.
type Kind string

// Kinds of catalog items.
const (
	KindFeature Kind = "feature" // an OS feature (the default)
	KindDriver  Kind = "driver"  // a device driver bound to hardware
	KindBSP     Kind = "bsp"     // a board support package
)

// Item is one catalog item, as written in its feature.toml.
type Item struct {
	// ID is the SYSGEN name, e.g. "SYSGEN_MESSENGER" or "BSP_QEMU_X86_64".
	ID string `toml:"id"`
	// Title is the human name, as in the CE documentation where it has one.
	Title string `toml:"title"`
	// Description says what the item does for the device.
	Description string `toml:"description"`
	// NameSource says where the SYSGEN name comes from: "ce5" when the CE 5.0
	// documentation gives it, "chosen" when this project chose it in CE style.
	NameSource string `toml:"name_source"`
	// Kind is feature (default), driver or bsp.
	Kind Kind `toml:"kind"`
	// License is the SPDX licence expression of what the item adds to an image.
	License string `toml:"license"`

	// Requires are hard dependencies: selecting this item selects them.
	Requires []string `toml:"requires"`
	// After orders this item after the named ones when both are selected,
	// without selecting them.
	After []string `toml:"after"`
	// Conflicts names items that cannot be in the same design.
	Conflicts []string `toml:"conflicts"`
	// Provides names abstract capabilities this item offers (e.g. "audio").
	Provides []string `toml:"provides"`
	// Needs names abstract capabilities some selected item must provide.
	Needs []string `toml:"needs"`
	// Hardware lists the hardware this item needs on the board, as
	// "kind" or "kind:bus" (e.g. "nic", "audio:pci"); a BSP must have it.
	Hardware []string `toml:"hardware"`

	// Commands are Go packages (module-relative, e.g. "./msmsgs") built into
	// the image's busybox binary.
	Commands []string `toml:"commands"`
	// Files are copied into the image.
	Files []File `toml:"files"`
	// Modules are the image modules this item adds, named as CE named them
	// (e.g. msmsgs, msgslang); each becomes a module in the image manifest.
	Modules []string `toml:"modules"`
	// KernelModules are Linux kernel modules (with dependency closure) the
	// item's driver loads on the device.
	KernelModules []string `toml:"kernel_modules"`
	// Services are started by the device init after drivers are bound.
	Services []Service `toml:"services"`
	// Settings are the settings the item declares, by flat dotted key (e.g.
	// "msmsgs.server"): type, default and meaning, as
	// [settings."msmsgs.server"] tables. Defaults are merged into the image's
	// settings file. A BSP may also override another item's default with a
	// table that holds only default.
	Settings map[string]Setting `toml:"settings"`
	// Ports are the network ports the item uses.
	Ports []Port `toml:"ports"`

	// Shell names one of Commands that the image links as /bin/sh.
	Shell string `toml:"shell"`
	// BuildTags are Go build tags this item adds to the image's build
	// besides its own sysgen_<id> tag (e.g. a command's small variant).
	BuildTags []string `toml:"build_tags"`
	// CertDir, when set, makes this item the device certificate store: the
	// certificates an OS design names are copied into this image folder,
	// and a design that names certificates must include this item.
	CertDir string `toml:"cert_dir"`
	// Locales, when set, makes this item the carrier of the OS design's
	// locales.
	Locales *Locales `toml:"locales"`
	// SettingsFile marks the item credited with the merged settings file
	// in the image's size report (the core OS).
	SettingsFile bool `toml:"settings_file"`

	// ImplementedIn names module-relative Go package folders (e.g.
	// "image/deviceinit") where the item's behaviour lives when it is not
	// in the item's own commands or folder; each must be linked into the
	// image of a design holding the item.
	ImplementedIn []string `toml:"implemented_in"`
	// Pending, when set, says what of the item is still to come: the item
	// is in the catalog but the image does not yet carry working code for
	// it. sysgen list, resolve and build print it on every run.
	Pending string `toml:"pending"`

	// BSP holds board data; only for kind = "bsp".
	BSP *BSP `toml:"bsp"`

	// File is the manifest's path; set by the loader.
	File string `toml:"-"`
	// Dir is the folder holding the manifest; set by the loader.
	Dir string `toml:"-"`
}

// File is one file an item puts into the image.
type File struct {
	// Src is the source path, relative to the manifest's folder.
	Src string `toml:"src"`
	// Dst is the absolute path in the image.
	Dst string `toml:"dst"`
	// Mode is the octal permission string, default "0644".
	Mode string `toml:"mode"`
}

// Locales says where an item takes the OS design's locales from and where
// they go in the image.
type Locales struct {
	// Dir holds one file per locale, relative to the manifest's folder.
	Dir string `toml:"dir"`
	// Dst is the image folder the locale files are copied into.
	Dst string `toml:"dst"`
	// Default is the locale an image carries when the design names none.
	Default string `toml:"default"`
	// Setting is the settings key set to the design's first locale,
	// unless the design's [settings] sets it.
	Setting string `toml:"setting"`
}

// Service is a program the device init starts.
type Service struct {
	Name    string   `toml:"name"`
	Args    []string `toml:"args"`
	Restart bool     `toml:"restart"`
}

// Port is one network port (or range) an item uses.
type Port struct {
	// Proto is "tcp" or "udp".
	Proto string `toml:"proto"`
	// Ports is "1863", "6891-6900" or "dynamic".
	Ports string `toml:"ports"`
	// Direction is "out", "in" or "in/out".
	Direction string `toml:"direction"`
	// Purpose says what the traffic is, for the firewall admin.
	Purpose string `toml:"purpose"`
}

// BSP is the board data of a board support package item.
type BSP struct {
	// Name is the BSP's short name used with --bsp, e.g. "qemu-x86_64".
	Name string `toml:"name"`
	// Arch is the GOARCH of the board: amd64 or arm64.
	Arch string `toml:"arch"`
	// Kernel is the Debian kernel package the image boots.
	Kernel Kernel `toml:"kernel"`
	// Cmdline is the kernel command line.
	Cmdline string `toml:"cmdline"`
	// Console is the serial console device, e.g. "ttyS0".
	Console string `toml:"console"`
	// QEMU is the argv that emulates this board; {kernel}, {initrd},
	// {append} and {wav} are replaced at boot.
	QEMU []string `toml:"qemu"`
	// BudgetBytes is the size budget of kernel plus compressed initramfs.
	BudgetBytes int64 `toml:"budget_bytes"`
	// Hardware lists what is on the board.
	Hardware []Hardware `toml:"hardware"`
}

// Kernel names a Debian kernel package, pinned by version and sha256.
type Kernel struct {
	Package string `toml:"package"`
	Version string `toml:"version"`
	Arch    string `toml:"arch"`
	SHA256  string `toml:"sha256"`
	// Image is the kernel's path inside the package, e.g. "boot/vmlinuz-6.1.0-56-amd64".
	Image string `toml:"image"`
	// Release is the module directory name, e.g. "6.1.0-56-amd64".
	Release string `toml:"release"`
}

// Hardware is one device on a board.
type Hardware struct {
	// Kind is what the device is for: "nic", "audio", "console", "i2c".
	Kind string `toml:"kind"`
	// Bus is how it is attached: "pci", "virtio-mmio", "platform", "i2c".
	Bus string `toml:"bus"`
	// ID is the bus ID (PCI vendor:device, or a modalias pattern).
	ID string `toml:"id"`
	// Name is the device's model name.
	Name string `toml:"name"`
}

// HasHardware reports whether the board has hardware matching want
// ("kind" or "kind:bus").
func (b *BSP) HasHardware(want string) bool {
	kind, bus, _ := strings.Cut(want, ":")
	for _, h := range b.Hardware {
		if h.Kind == kind && (bus == "" || h.Bus == bus) {
			return true
		}
	}
	return false
}

// Range returns the first and last port of p.Ports; ok is false for
// "dynamic" or an unparsable value.
func (p Port) Range() (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(p.Ports, "-")
	lo, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, false
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil {
			return 0, 0, false
		}
	}
	return lo, hi, true
}

// String returns the item's id and title.
func (it *Item) String() string { return fmt.Sprintf("%s (%s)", it.ID, it.Title) }

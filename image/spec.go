package image

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/oemkit/messenger/feature/settings"
)

// Spec is everything Build needs to know about one image. Package
// sysgen/design makes it from the resolved OS design and the BSP manifest;
// nothing in this package knows a feature by name.
type Spec struct {
	// BSP is the board support package name, e.g. "qemu-x86_64".
	BSP string
	// GOARCH is the device's Go architecture: "amd64" or "arm64".
	GOARCH string
	// Kernel is the Debian kernel package the BSP boots.
	Kernel KernelPackage
	// Cmdline is the kernel command line (console=..., quiet, ...).
	Cmdline string
	// QEMU is the argv (program first) that emulates the board. These
	// placeholders are replaced when booting: {kernel}, {initrd}, {append}
	// (Cmdline plus boot-time additions), {wav} (audio output file).
	QEMU []string
	// Budget is the most bytes kernel plus compressed initramfs may take;
	// 0 means no budget.
	Budget int64
	// Commands are Go main packages built into the busybox binary, each
	// an import path inside the module (or a dependency of it).
	Commands []Command
	// Files are extra files placed in the image.
	Files []File
	// Modules are kernel modules (by name, as modprobe takes them); their
	// dependency closure is added too.
	Modules []Module
	// Settings is the merged settings file, written to /etc/settings.json.
	Settings []byte
	// Services are programs the device init starts after the device is ready.
	Services []Service
	// Features are the selected feature ids (SYSGEN_...); each becomes the
	// Go build tag sysgen_<lowercase id without SYSGEN_>.
	Features []string
	// Tags are further Go build tags the features ask for.
	Tags []string
	// Shell is the import path of one of Commands that is linked as
	// /bin/sh; "" means the image has no shell.
	Shell string
	// Compression picks the initramfs compression: "zstd" (default), "xz"
	// or "gzip".
	Compression string
	// SettingsFeature is the feature credited with /etc/settings.json in
	// the size report; "" means "settings".
	SettingsFeature string
}

// KernelPackage names a Debian kernel package and where its kernel is.
type KernelPackage struct {
	// Name is the binary package, e.g. "linux-image-6.1.0-56-amd64".
	Name string
	// Version is the exact package version, e.g. "6.1.192-2".
	Version string
	// Arch is the Debian architecture ("amd64", "arm64"); "" derives it
	// from GOARCH.
	Arch string
	// SHA256 is the hex sha256 of the .deb file.
	SHA256 string
	// Vmlinuz is the kernel's path inside the package, e.g.
	// "boot/vmlinuz-6.1.0-56-amd64".
	Vmlinuz string
	// License is the package's licence as an SPDX id; "" means GPL-2.0-only.
	License string
}

// Command is one Go command in the image.
type Command struct {
	// Pkg is the Go import path of a main package.
	Pkg string `json:"pkg"`
	// Feature is the feature id that adds it.
	Feature string `json:"feature"`
}

// File is one extra file in the image. Exactly one of Src and Data is set.
type File struct {
	// Src is a host path to copy.
	Src string
	// Data is the file's content.
	Data []byte
	// Dst is the absolute path in the image.
	Dst string
	// Mode is the permission bits; 0 means 0644.
	Mode uint32
	// Feature is the feature id that adds it.
	Feature string
}

// Module is a kernel module the design needs.
type Module struct {
	// Name is the module name, e.g. "virtio_net" (- and _ are the same).
	Name string
	// Feature is the feature or driver that needs it.
	Feature string
}

// Service is a program the device init starts and supervises.
type Service struct {
	// Name is shown in console log lines.
	Name string `json:"name"`
	// Argv is the program and its arguments; a bare name is looked up in
	// /bbin and /bin.
	Argv []string `json:"argv"`
	// Restart restarts the program when it exits.
	Restart bool `json:"restart"`
}

// Well-known paths in the image.
const (
	SettingsPath = settings.Path // the device settings file
	ServicesPath = "/etc/deviceinit/services.json"
	// DeviceInitPkg is the device init, linked to /bin/uinit.
	DeviceInitPkg = "github.com/oemkit/messenger/image/deviceinit"
	// InitPkg is u-root's init, linked to /init.
	InitPkg = "github.com/u-root/u-root/cmds/core/init"
)

// ErrSpec is wrapped by every error about an invalid Spec.
var ErrSpec = errors.New("image: invalid spec")

var (
	hexSHA    = regexp.MustCompile(`^[0-9a-f]{64}$`)
	debName   = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)
	debVer    = regexp.MustCompile(`^[0-9A-Za-z.+~:-]+$`)
	modName   = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	featureID = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	buildTag  = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
)

// BuildTag returns the Go build tag for a feature id:
// SYSGEN_MESSENGER -> sysgen_messenger.
func BuildTag(feature string) string {
	return "sysgen_" + strings.ToLower(strings.TrimPrefix(feature, "SYSGEN_"))
}

// debArch returns the Debian architecture for the spec.
func (s *Spec) debArch() string {
	if s.Kernel.Arch != "" {
		return s.Kernel.Arch
	}
	return s.GOARCH
}

// Validate reports the first problem with the spec, wrapping ErrSpec.
func (s *Spec) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrSpec, fmt.Sprintf(format, a...))
	}
	if s.BSP == "" {
		return bad("no BSP name; set the BSP in the design or pass --bsp")
	}
	switch s.GOARCH {
	case "amd64", "arm64":
	default:
		return bad("GOARCH %q is not supported; the BSP manifest must say amd64 or arm64", s.GOARCH)
	}
	k := s.Kernel
	if !debName.MatchString(k.Name) || !debVer.MatchString(k.Version) {
		return bad("kernel package %q version %q: set both in the BSP manifest (e.g. linux-image-6.1.0-56-amd64, 6.1.192-2)", k.Name, k.Version)
	}
	if !hexSHA.MatchString(k.SHA256) {
		return bad("kernel package %s: sha256 %q is not 64 lowercase hex digits; put the .deb's sha256sum in the BSP manifest", k.Name, k.SHA256)
	}
	if k.Vmlinuz == "" || path.IsAbs(k.Vmlinuz) || strings.Contains(k.Vmlinuz, "..") {
		return bad("kernel package %s: vmlinuz path %q must be relative inside the package, e.g. boot/vmlinuz-6.1.0-56-amd64", k.Name, k.Vmlinuz)
	}
	if len(s.QEMU) == 0 {
		return bad("BSP %s has no QEMU command line", s.BSP)
	}
	if s.Budget < 0 {
		return bad("budget %d is negative", s.Budget)
	}
	switch s.Compression {
	case "", "zstd", "xz", "gzip":
	default:
		return bad("compression %q: use zstd, xz or gzip", s.Compression)
	}
	for _, f := range s.Features {
		if !featureID.MatchString(f) {
			return bad("feature id %q is not an upper-case SYSGEN id", f)
		}
	}
	for _, tag := range s.Tags {
		if !buildTag.MatchString(tag) {
			return bad("build tag %q is not a Go build tag (letters, digits, _ and .)", tag)
		}
	}
	shell := s.Shell == ""
	for _, c := range s.Commands {
		if c.Pkg == "" || strings.ContainsAny(c.Pkg, " \t*") {
			return bad("command %q (feature %s) is not a Go import path", c.Pkg, c.Feature)
		}
		shell = shell || c.Pkg == s.Shell
	}
	if !shell {
		return bad("shell %s is not one of the image's commands; list it in the commands of the feature that names it", s.Shell)
	}
	seen := map[string]bool{}
	for _, f := range s.Files {
		if !path.IsAbs(f.Dst) || path.Clean(f.Dst) != f.Dst || f.Dst == "/" {
			return bad("file destination %q (feature %s) must be a clean absolute path", f.Dst, f.Feature)
		}
		if (f.Src == "") == (f.Data == nil) {
			return bad("file %s (feature %s) needs exactly one of a source path or data", f.Dst, f.Feature)
		}
		if seen[f.Dst] {
			return bad("file %s is added twice", f.Dst)
		}
		seen[f.Dst] = true
		if f.Dst == SettingsPath || f.Dst == ServicesPath {
			return bad("file %s is generated by the image builder; put settings in the design instead", f.Dst)
		}
	}
	for _, m := range s.Modules {
		if !modName.MatchString(m.Name) {
			return bad("kernel module name %q (feature %s) is not a module name", m.Name, m.Feature)
		}
	}
	for _, sv := range s.Services {
		if sv.Name == "" || len(sv.Argv) == 0 {
			return bad("service %q needs a name and an argv", sv.Name)
		}
	}
	return nil
}

// GoBuild returns what the image's busybox binary is built from: the Go
// main packages in build order (u-root's init and the device init first)
// and the build tags (one sysgen_<id> per feature plus Tags), sorted. Build
// uses exactly these, so `go list -deps -tags` of them is what the binary
// links.
func (s *Spec) GoBuild() (pkgs, tags []string) {
	cmds, tags := s.goCommands()
	for _, c := range cmds {
		pkgs = append(pkgs, c.Pkg)
	}
	return pkgs, tags
}

// goCommands lists the Go commands in build order (init and device init
// first, credited to the feature that lists them, else "base") and the
// build tags.
func (s *Spec) goCommands() ([]Command, []string) {
	cmds := []Command{{Pkg: InitPkg, Feature: "base"}, {Pkg: DeviceInitPkg, Feature: "base"}}
	seen := map[string]bool{InitPkg: true, DeviceInitPkg: true}
	for _, c := range s.Commands {
		switch {
		case c.Pkg == InitPkg && cmds[0].Feature == "base":
			cmds[0].Feature = c.Feature
		case c.Pkg == DeviceInitPkg && cmds[1].Feature == "base":
			cmds[1].Feature = c.Feature
		case !seen[c.Pkg]:
			seen[c.Pkg] = true
			cmds = append(cmds, c)
		}
	}
	tags := append([]string(nil), s.Tags...)
	for _, f := range s.Features {
		tags = append(tags, BuildTag(f))
	}
	sort.Strings(tags)
	return cmds, slices.Compact(tags)
}

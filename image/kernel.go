package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/feature"
)

// ErrKernelChecksum is wrapped when a downloaded kernel package does not
// match the sha256 in the spec.
var ErrKernelChecksum = errors.New("image: kernel package sha256 mismatch")

// CacheDir returns the folder where kernel packages are cached:
// $XDG_CACHE_HOME/oemkit-sysgen, else ~/.cache/oemkit-sysgen.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "oemkit-sysgen"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("image: cache dir: %w (set XDG_CACHE_HOME)", err)
	}
	return filepath.Join(home, ".cache", "oemkit-sysgen"), nil
}

// Kernel is an unpacked kernel package.
type Kernel struct {
	// Deb is the path of the checked .deb file.
	Deb string
	// Root is the folder the package is unpacked into.
	Root string
	// Release is the module folder name (uname -r), e.g. 6.1.0-56-amd64.
	Release string
	// Vmlinuz is the host path of the kernel image.
	Vmlinuz string
}

// ModulesDir is the host folder with the kernel's modules.
func (k *Kernel) ModulesDir() string {
	return filepath.Join(k.Root, "lib", "modules", k.Release)
}

// FetchKernel downloads the kernel package with apt-get into the cache (once),
// checks its sha256 and unpacks it with dpkg-deb (once).
func FetchKernel(ctx context.Context, kp KernelPackage, arch string, cache string, p *progress) (*Kernel, error) {
	debDir := filepath.Join(cache, "deb")
	if err := os.MkdirAll(debDir, 0o755); err != nil {
		return nil, fmt.Errorf("image: kernel cache: %w", err)
	}
	deb := filepath.Join(debDir, fmt.Sprintf("%s_%s_%s.deb", kp.Name, strings.ReplaceAll(kp.Version, ":", "%3a"), arch))
	if _, err := os.Stat(deb); err != nil {
		p.Step("kernel: apt-get download %s=%s (%s)", kp.Name, kp.Version, arch)
		if err := aptDownload(ctx, kp, arch, debDir, deb); err != nil {
			return nil, err
		}
	}
	sum, err := debSHA256(deb)
	if err != nil {
		return nil, fmt.Errorf("image: kernel package: %w", err)
	}
	if sum != kp.SHA256 {
		return nil, fmt.Errorf("%w: %s is %s, the BSP manifest says %s; if the Debian package was rebuilt, check it and update the sha256 in the BSP manifest (delete %s to download again)", ErrKernelChecksum, filepath.Base(deb), sum, kp.SHA256, deb)
	}
	root := filepath.Join(cache, "kernel", strings.TrimSuffix(filepath.Base(deb), ".deb")+"-"+sum[:12])
	if _, err := os.Stat(filepath.Join(root, ".unpacked")); err != nil {
		p.Step("kernel: unpacking %s", filepath.Base(deb))
		if err := unpackDeb(ctx, deb, root); err != nil {
			return nil, err
		}
	}
	k := &Kernel{Deb: deb, Root: root, Vmlinuz: filepath.Join(root, filepath.FromSlash(kp.Vmlinuz))}
	if _, err := os.Stat(k.Vmlinuz); err != nil {
		return nil, fmt.Errorf("image: kernel package %s has no %s: fix the vmlinuz path in the BSP manifest: %w", kp.Name, kp.Vmlinuz, err)
	}
	ents, err := os.ReadDir(filepath.Join(root, "lib", "modules"))
	if err != nil || len(ents) != 1 {
		return nil, fmt.Errorf("image: kernel package %s: want exactly one lib/modules/<release> folder (err %v)", kp.Name, err)
	}
	k.Release = ents[0].Name()
	return k, nil
}

func aptDownload(ctx context.Context, kp KernelPackage, arch, dir, dst string) error {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("image: kernel fetch needs apt-get (Debian/Ubuntu host): %w", err)
	}
	tmp, err := os.MkdirTemp(dir, ".download-")
	if err != nil {
		return fmt.Errorf("image: kernel fetch: %w", err)
	}
	defer os.RemoveAll(tmp)
	pkg := kp.Name + "=" + kp.Version
	if arch != hostDebArch() {
		pkg = kp.Name + ":" + arch + "=" + kp.Version
	}
	run := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = tmp
		return cmd.CombinedOutput()
	}
	out, err := run("apt-get", "download", pkg)
	if err != nil && arch != hostDebArch() {
		// A foreign kernel needs the architecture in dpkg and apt's lists.
		if o2, err2 := run("dpkg", "--add-architecture", arch); err2 != nil {
			return fmt.Errorf("image: kernel fetch: dpkg --add-architecture %s failed (run it as root, then apt-get update): %v: %s", arch, err2, o2)
		}
		if o2, err2 := run("apt-get", "update"); err2 != nil {
			return fmt.Errorf("image: kernel fetch: apt-get update after adding %s failed (run it as root): %v: %s", arch, err2, o2)
		}
		out, err = run("apt-get", "download", pkg)
	}
	if err != nil {
		return fmt.Errorf("image: apt-get download %s failed (check the package name and version in the BSP manifest, and apt sources): %w: %s", pkg, err, bytes.TrimSpace(out))
	}
	ents, err := os.ReadDir(tmp)
	if err != nil || len(ents) != 1 {
		return fmt.Errorf("image: apt-get download %s: want one .deb, got %d (%v)", pkg, len(ents), err)
	}
	if err := os.Rename(filepath.Join(tmp, ents[0].Name()), dst); err != nil {
		return fmt.Errorf("image: kernel fetch: %w", err)
	}
	return nil
}

func hostDebArch() string {
	out, err := exec.Command("dpkg", "--print-architecture").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func unpackDeb(ctx context.Context, deb, root string) error {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		return fmt.Errorf("image: unpacking the kernel needs dpkg-deb (apt-get install dpkg): %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return fmt.Errorf("image: kernel unpack: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), ".unpack-")
	if err != nil {
		return fmt.Errorf("image: kernel unpack: %w", err)
	}
	defer os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("image: dpkg-deb -x %s: %w: %s (delete the file to download it again)", deb, err, out)
	}
	if err := os.WriteFile(filepath.Join(tmp, ".unpacked"), nil, 0o644); err != nil {
		return fmt.Errorf("image: kernel unpack: %w", err)
	}
	if _, err := os.Stat(filepath.Join(root, ".unpacked")); err == nil {
		return nil // another build unpacked it meanwhile
	}
	os.RemoveAll(root) // a partial unpack without the stamp
	if err := os.Rename(tmp, root); err != nil {
		if _, err2 := os.Stat(filepath.Join(root, ".unpacked")); err2 == nil {
			return nil
		}
		return fmt.Errorf("image: kernel unpack: %w", err)
	}
	return nil
}

// goEnv returns `go env NAME` run in dir, or "".
func goEnv(ctx context.Context, dir, name string) string {
	cmd := exec.CommandContext(ctx, "go", "env", name)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// FetchBSPKernel fetches (once) and unpacks the kernel package a BSP
// manifest (bsp/<name>/feature.toml) pins, into the cache folder.
func FetchBSPKernel(ctx context.Context, bspManifest string) (*Kernel, error) {
	it, err := feature.LoadFile(bspManifest)
	if err != nil {
		return nil, err
	}
	return FetchItemKernel(ctx, it)
}

// FetchItemKernel fetches (once) and unpacks the kernel package of a BSP
// item into the cache folder.
func FetchItemKernel(ctx context.Context, it *feature.Item) (*Kernel, error) {
	if it.BSP == nil {
		return nil, fmt.Errorf("image: %s has no [bsp] table: give the manifest of a board (bsp/<name>/feature.toml)", it.File)
	}
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	kp := BSPKernel(it)
	arch := kp.Arch
	if arch == "" {
		arch = it.BSP.Arch
	}
	return FetchKernel(ctx, kp, arch, cache, nil)
}

// BSPKernel is the kernel package a BSP item pins; its licence is the
// item's.
func BSPKernel(it *feature.Item) KernelPackage {
	k := it.BSP.Kernel
	return KernelPackage{Name: k.Package, Version: k.Version, Arch: k.Arch, SHA256: k.SHA256, Vmlinuz: k.Image, License: it.License}
}

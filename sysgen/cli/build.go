package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/settings"
	upd "github.com/oemkit/messenger/feature/update"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/image/sdcard"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/sysgen/design"
	"github.com/oemkit/messenger/sysgen/resolve"
)

func init() {
	extraCommands = append(extraCommands,
		command{"build", "build the bootable image for the design's BSP into a folder", runBuild},
		command{"boot", "boot a built image in QEMU (--check: wait for ready, exit 0 or 1)", runBoot},
		command{"size", "size report of a built image, per feature and module (--diff OTHER, --svg FILE)", runSize},
		command{"unpack", "unpack a built image's files into a folder, to inspect or try a changed file", runUnpack},
	)
}

func runBuild(ctx context.Context, c *Context, args []string) error {
	fs, co := c.flags("build", "build -o DIR [--bsp NAME] [--design FILE] [--compression zstd|xz|gzip]", nil)
	out := fs.String("o", "", "output folder (replaced atomically)")
	compression := fs.String("compression", "", "initramfs compression: zstd (default), xz or gzip")
	full := fs.Bool("full", false, "rebuild every Go package (ignore the Go build cache)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageErr("sysgen build: -o DIR is required")
	}
	s, err := c.session(co)
	if err != nil {
		return err
	}
	r, err := s.resolve()
	if err != nil {
		return err
	}
	for _, it := range design.Pending(r) {
		fmt.Fprintf(c.Stderr, "sysgen: %s\n", design.PendingLine(it))
	}
	spec, err := design.Spec(s.cat, r, s.file, design.EnvOptions(c.Env))
	if err != nil {
		return err
	}
	spec.Compression = *compression
	if err := checkUpdateKey(r, spec.Settings); err != nil {
		return err
	}
	warnNoWatchdog(c.Stderr, r)
	dir := *out
	if !filepath.IsAbs(dir) && c.Dir != "" {
		dir = filepath.Join(c.Dir, dir)
	}
	opts := []image.Option{image.WithProgress(c.Stderr)}
	if root, err := catalogRoot(orDot(c.Dir)); err == nil {
		opts = append(opts, image.WithModuleDir(root))
	}
	if *full {
		opts = append(opts, image.WithFullRebuild())
	}
	start := time.Now()
	res, err := image.Build(ctx, spec, dir, opts...)
	if err != nil {
		return err
	}
	if d := res.Manifest.Disk; d != nil {
		fmt.Fprintf(c.Stdout, "disk image %s: %s, GPT (%d partitions), written in %.2fs\n", filepath.Join(*out, d.File), humanBytes(d.Size), len(d.Layout.Partitions), res.Times.Disk.Seconds())
	}
	if _, ok := sdcard.Boards[r.BSP.BSP.Name]; ok {
		// A board that boots from an SD card gets the card image too.
		t := time.Now()
		card := filepath.Join(dir, sdcard.ImageName)
		lay, err := sdcard.WriteImage(ctx, dir, card, sdcard.FirmwareDir)
		if err != nil {
			return fmt.Errorf("sysgen build: the image folder %s is built, but its SD card image is not: %w", *out, err)
		}
		if err := sdcard.Record(dir, card, sdcard.FirmwareDir, lay); err != nil {
			return fmt.Errorf("sysgen build: the SD card image %s is written, but not in the folder's manifest and SBOM: %w", card, err)
		}
		fmt.Fprintf(c.Stdout, "SD card image %s: %d MiB, MBR (%d partitions), written in %.2fs\n", filepath.Join(*out, sdcard.ImageName), lay.Size>>20, len(lay.Partitions), time.Since(t).Seconds())
	}
	fmt.Fprintf(c.Stdout, "built %s image for BSP %s in %s (%.1fs): kernel %s + initramfs %s (%s) = %s of %s budget\n",
		r.BSP.BSP.Arch, r.BSP.BSP.Name, *out, time.Since(start).Seconds(),
		humanBytes(res.Size.Kernel), humanBytes(res.Size.Initramfs), res.Size.Compression,
		humanBytes(res.Size.Total), humanBytes(res.Size.Budget))
	return nil
}

func runBoot(ctx context.Context, c *Context, args []string) error {
	fs, _ := c.flags("boot", "boot [--check [--console FILE]] [--uefi] [--timeout 3m] [--wav FILE] [--append ARG]... DIR", nil)
	check := fs.Bool("check", false, "wait until the device reports ready, then stop it: exit 0, or 1 with the console's last lines")
	uefi := fs.Bool("uefi", false, "boot the flashable disk image (disk.img) under OVMF as the board boots its storage (firmware, systemd-boot, slot A), on a copy so the image stays as built; needs apt-get install ovmf")
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait for the device (with --uefi at least 5m is used unless set)")
	wav := fs.String("wav", "", "write the device's audio output to this WAV file")
	consoleFile := fs.String("console", "", "with --check, also write the whole console to this file (to read the kernel's and init's timings)")
	var appendArgs multiFlag
	fs.Var(&appendArgs, "append", "add to the kernel command line (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("sysgen boot: need the image folder, e.g. sysgen boot --check out/x86")
	}
	dir := pos[0]
	if !filepath.IsAbs(dir) && c.Dir != "" {
		dir = filepath.Join(c.Dir, dir)
	}
	opts := qemu.Options{WAV: *wav, Append: appendArgs, Console: c.Stdout, Timeout: *timeout}
	boot := qemu.Boot
	if *uefi {
		boot = qemu.BootDisk
		if !flagSet(fs, "timeout") {
			opts.Timeout = 5 * time.Minute
		}
	}
	if *check {
		opts.Console = nil
		res, err := boot(ctx, dir, opts)
		if res != nil && *consoleFile != "" {
			if werr := fsutil.WriteFileAtomic(*consoleFile, []byte(res.Console), 0o644); werr != nil {
				return fmt.Errorf("sysgen boot: %w", werr)
			}
		}
		if err != nil {
			if res != nil {
				fmt.Fprintf(c.Stderr, "console (last lines):\n%s\n", qemu.Tail(res.Console, 30))
			}
			return err
		}
		fmt.Fprintf(c.Stdout, "device ready: kernel reached /init after %.2fs, ready after %.2fs (%.2fs after /init)\n",
			res.ToInit.Seconds(), res.ToReady.Seconds(), (res.ToReady - res.ToInit).Seconds())
		if d, ok := res.Markers[qemu.MarkerDrivers]; ok {
			fmt.Fprintf(c.Stdout, "drivers: %s\n", d)
		}
		if d, ok := res.Markers[qemu.MarkerReady]; ok {
			fmt.Fprintf(c.Stdout, "ready: %s\n", d)
		}
		bootBreakdown(c.Stdout, res.ToReady-res.ToInit, res.Markers[qemu.MarkerUinit], res.Markers[qemu.MarkerDrivers], res.Markers[qemu.MarkerReady])
		return nil
	}
	// Interactive: run until the user stops it (Ctrl-C) or the timeout.
	opts.WaitExit = true
	_, err = boot(ctx, dir, opts)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runSize(_ context.Context, c *Context, args []string) error {
	fs, _ := c.flags("size", "size DIR [--diff OTHER] [--format text|json] [--svg FILE]", nil)
	diff := fs.String("diff", "", "compare with another built image folder: what grew from OTHER to DIR")
	format := fs.String("format", "text", "text or json")
	svg := fs.String("svg", "", "also write the size chart as SVG to this file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("sysgen size: need the image folder, e.g. sysgen size out/x86")
	}
	if *format != "text" && *format != "json" {
		return usageErr("sysgen size: --format %q: use text or json", *format)
	}
	abs := func(p string) string {
		if !filepath.IsAbs(p) && c.Dir != "" {
			return filepath.Join(c.Dir, p)
		}
		return p
	}
	dir := abs(pos[0])
	if *diff != "" {
		d, err := image.SizeDiff(abs(*diff), dir)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeJSON(c, d)
		}
		return d.WriteText(c.Stdout)
	}
	s, err := image.SizeReport(dir)
	if err != nil {
		return err
	}
	if *svg != "" {
		src := filepath.Join(dir, "size.svg")
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("sysgen size: %w (rebuild the image: size.svg is written by sysgen build)", err)
		}
		if err := writeFileAtomic(abs(*svg), b); err != nil {
			return err
		}
	}
	if *format == "json" {
		return writeJSON(c, s)
	}
	return s.WriteText(c.Stdout)
}

func runUnpack(_ context.Context, c *Context, args []string) error {
	fs, _ := c.flags("unpack", "unpack DIR -o ROOT", nil)
	out := fs.String("o", "", "folder to write the image's files into (new or empty)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usageErr("sysgen unpack: need the image folder and -o ROOT, e.g. sysgen unpack out/x86 -o /tmp/root")
	}
	abs := func(p string) string {
		if !filepath.IsAbs(p) && c.Dir != "" {
			return filepath.Join(c.Dir, p)
		}
		return p
	}
	if err := image.Unpack(abs(pos[0]), abs(*out)); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "unpacked %s into %s\n", pos[0], *out)
	return nil
}

func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name))
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// checkUpdateKey refuses a design with SYSGEN_UPDATE whose update.public_key
// is missing or malformed: such a device would refuse every update.
func checkUpdateKey(r *resolve.Result, merged []byte) error {
	if _, ok := r.Lookup("SYSGEN_UPDATE"); !ok {
		return nil
	}
	f, err := settings.Parse("the merged settings", merged)
	if err != nil {
		return err
	}
	key, err := f.Text("update.public_key")
	if err == nil {
		_, err = upd.ParsePublicKey(key)
	}
	if err != nil {
		return fmt.Errorf("sysgen build: SYSGEN_UPDATE is in the design, but its devices could take no update: %w (sysgen keygen -o oem.key prints the line)", err)
	}
	if v, err := f.Text("update.version"); err == nil {
		if _, err := upd.ParseVersion(v); err != nil {
			return fmt.Errorf("sysgen build: %w (update.version in the design)", err)
		}
	}
	return nil
}

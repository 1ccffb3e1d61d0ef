package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/oemkit/messenger/internal/modroot"
	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/cpio"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/mkuimage/uimage/builder"
	"github.com/u-root/mkuimage/uimage/initramfs"
	"github.com/u-root/uio/llog"
)

// ErrBudget is wrapped when the image is larger than the BSP's budget.
var ErrBudget = errors.New("image: size budget exceeded")

// Option changes how Build works.
type Option func(*options)

type options struct {
	progress  io.Writer
	moduleDir string
	cacheDir  string
	fullBuild bool
	keepTemp  bool
}

// WithProgress reports long steps to w: live on a terminal, plain lines
// otherwise. Without it Build is silent.
func WithProgress(w io.Writer) Option { return func(o *options) { o.progress = w } }

// WithModuleDir sets the Go module root the commands are built from; the
// default is the module containing the current directory.
func WithModuleDir(dir string) Option { return func(o *options) { o.moduleDir = dir } }

// WithCacheDir sets the kernel package cache; the default is CacheDir().
func WithCacheDir(dir string) Option { return func(o *options) { o.cacheDir = dir } }

// WithFullRebuild passes -a to go build (ignore the Go build cache).
func WithFullRebuild() Option { return func(o *options) { o.fullBuild = true } }

// Result is what Build produced.
type Result struct {
	// Dir is the output folder.
	Dir string
	// Manifest is the written manifest.
	Manifest *Manifest
	// Size is the written size report.
	Size *Size
	// Times is how long each step took.
	Times Times
}

// Times is the duration of each build step: kernel fetch and module
// closure, Go build, archive assembly, compression, the disk image, and
// writing (manifest, size report, SBOM with go list, files).
type Times struct {
	Kernel, Go, Assemble, Compress, Disk, Write, Total time.Duration
}

// entry is one initramfs record with its attribution.
type entry struct {
	rec     cpio.Record
	data    []byte
	feature string
	module  string
}

// Build builds the image for spec into outDir. The budget is checked before
// anything is written; outDir is replaced atomically.
func Build(ctx context.Context, spec Spec, outDir string, opts ...Option) (*Result, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Compression == "" {
		spec.Compression = DefaultCompression
	}
	if outDir == "" {
		return nil, fmt.Errorf("image: no output folder; pass -o DIR")
	}
	if err := checkOutDir(outDir); err != nil {
		return nil, err
	}
	p := newProgress(o.progress)
	defer p.End()
	var times Times
	t0 := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d = now.Sub(t0)
		t0 = now
	}
	begin := t0

	modDir := o.moduleDir
	if modDir == "" {
		d, err := findModuleRoot()
		if err != nil {
			return nil, err
		}
		modDir = d
	}
	cache := o.cacheDir
	if cache == "" {
		c, err := CacheDir()
		if err != nil {
			return nil, err
		}
		cache = c
	}

	k, err := FetchKernel(ctx, spec.Kernel, spec.debArch(), cache, p)
	if err != nil {
		return nil, err
	}
	mods, builtin, err := moduleClosure(k.ModulesDir(), spec.Modules)
	if err != nil {
		return nil, err
	}
	lap(&times.Kernel)

	tmp, err := os.MkdirTemp("", "sysgen-build-")
	if err != nil {
		return nil, fmt.Errorf("image: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)

	cmds, tags := spec.goCommands()
	p.Step("go: building %d commands for %s (busybox mode)", len(cmds), spec.GOARCH)
	arch, err := buildGo(ctx, spec, modDir, tmp, cmds, tags, o.fullBuild)
	if err != nil {
		return nil, err
	}
	lap(&times.Go)
	p.Step("image: assembling initramfs")
	entries, err := assemble(spec, arch, cmds, k, mods, builtin)
	if err != nil {
		return nil, err
	}
	cpioBytes, err := writeCPIO(entries)
	if err != nil {
		return nil, err
	}
	lap(&times.Assemble)
	p.Step("image: %s-compressing %d MB initramfs", spec.Compression, len(cpioBytes)>>20)
	compressed, err := compress(spec.Compression, cpioBytes)
	if err != nil {
		return nil, err
	}
	p.End()
	lap(&times.Compress)

	kernelBytes, err := os.ReadFile(k.Vmlinuz)
	if err != nil {
		return nil, fmt.Errorf("image: kernel: %w", err)
	}
	man := spec.manifest(k, kernelBytes, entries, cpioBytes, compressed, cmds, tags)
	pkgs, err := goListPackages(ctx, spec, man, modDir)
	if err != nil {
		return nil, err
	}
	for _, f := range man.Files {
		if f.Path == "/bbin/bb" && entries["bbin/bb"] != nil {
			shares := packageShares(pkgs, cmds, spec.Features, modDir)
			if man.GoShares, err = goShares(entries["bbin/bb"].data, shares, f.Size, f.Compressed); err != nil {
				return nil, err
			}
		}
	}
	size := sizeFromManifest(man)
	if spec.Budget > 0 && size.Total > spec.Budget {
		return nil, budgetError(spec, size)
	}

	var moves map[string]string
	if wantsDisk(spec) {
		p.Step("disk: writing the GPT disk image")
		diskTmp, md, err := writeDisk(spec, man, outDir, kernelBytes, compressed)
		if err != nil {
			return nil, err
		}
		if md != nil {
			defer os.Remove(diskTmp)
			man.Disk, moves = md, map[string]string{DiskFile: diskTmp}
		}
		lap(&times.Disk)
	}
	sbom, err := makeSBOM(ctx, spec, man, pkgs, modDir)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		KernelFile:    kernelBytes,
		man.Initramfs: compressed,
		SizeSVGFile:   sizeSVG(size),
		SBOMFile:      sbom,
	}
	if files[ManifestFile], err = marshalJSON(man); err != nil {
		return nil, fmt.Errorf("image: manifest: %w", err)
	}
	if files[SizeJSONFile], err = marshalJSON(size); err != nil {
		return nil, fmt.Errorf("image: size report: %w", err)
	}
	if err := writeDirAtomic(outDir, files, moves); err != nil {
		return nil, err
	}
	lap(&times.Write)
	times.Total = time.Since(begin)
	return &Result{Dir: outDir, Manifest: man, Size: size, Times: times}, nil
}

// buildGo builds the busybox binary with mkuimage and returns its archive
// (binary, symlinks, /init, /bin/uinit and u-root's base files).
func buildGo(ctx context.Context, spec Spec, modDir, tmp string, cmds []Command, tags []string, full bool) (*cpio.Archive, error) {
	env := golang.Default(golang.DisableCGO(), golang.WithGOARCH(spec.GOARCH), golang.WithGOOS("linux"),
		golang.WithWorkingDir(modDir), golang.WithBuildTag(tags...))
	bopts := &golang.BuildOpts{}
	if !full {
		// gobusybox always passes -a; this lets the Go build cache work.
		bopts.ExtraArgs = []string{"-a=false"}
	}
	pkgs := make([]string, len(cmds))
	for i, c := range cmds {
		pkgs[i] = c.Pkg
	}
	out := &initramfs.Archive{Archive: cpio.InMemArchive()}
	var logBuf bytes.Buffer
	l := llog.New(slog.LevelWarn, llog.WritePrintf(&logBuf))
	mods := []uimage.Modifier{
		uimage.WithReplaceEnv(env),
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithCommands(bopts, &builder.GBBBuilder{}, pkgs...),
		uimage.WithInit("init"),
		uimage.WithUinit("deviceinit"),
		uimage.WithSkipLDD(),
		uimage.WithTempDir(tmp),
		uimage.WithOutput(out),
	}
	if spec.Shell != "" {
		mods = append(mods, uimage.WithShell(path.Base(spec.Shell)))
	}
	done := make(chan error, 1)
	go func() { done <- uimage.Create(l, mods...) }()
	select {
	case err := <-done:
		if err != nil {
			return nil, fmt.Errorf("image: go build of %s failed (fix the Go error above, or drop the feature that adds the command): %w\n%s", strings.Join(pkgs, " "), err, bytes.TrimSpace(logBuf.Bytes()))
		}
	case <-ctx.Done():
		// uimage.Create cannot be interrupted and writes into tmp, which
		// the caller removes when we return: wait for it to finish.
		<-done
		return nil, fmt.Errorf("image: go build: %w", ctx.Err())
	}
	return out.Archive, nil
}

// assemble collects every initramfs entry with its content and attribution.
func assemble(spec Spec, arch *cpio.Archive, cmds []Command, k *Kernel, mods []*kmodFile, builtin []byte) (map[string]*entry, error) {
	cmdFeature := map[string]string{}
	for _, c := range cmds {
		cmdFeature[path.Base(c.Pkg)] = c.Feature
	}
	entries := map[string]*entry{}
	for name, r := range arch.Files {
		if name == cpio.Trailer {
			continue // written into the in-memory archive by Finish
		}
		e := &entry{rec: cpio.MakeReproducible(r), feature: "base"}
		if r.Mode&cpio.S_IFMT == cpio.S_IFREG || r.Mode&cpio.S_IFMT == cpio.S_IFLNK {
			b := make([]byte, r.FileSize)
			if _, err := r.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("image: read %s from the built archive: %w", name, err)
			}
			e.data = b
		}
		if strings.HasPrefix(name, "bbin/") {
			if f, ok := cmdFeature[path.Base(name)]; ok {
				e.feature = f
			}
		}
		if name == "bbin/bb" {
			e.feature = "go"
		}
		entries[name] = e
	}
	add := func(name string, data []byte, perm uint64, feature, module string) {
		name = cpio.Normalize(name)
		entries[name] = &entry{
			rec:     cpio.Record{Info: cpio.Info{Name: name, Mode: cpio.S_IFREG | perm, FileSize: uint64(len(data))}},
			data:    data,
			feature: feature,
			module:  module,
		}
	}
	modRoot := "lib/modules/" + k.Release + "/"
	if len(mods) > 0 {
		for _, m := range mods {
			add(modRoot+m.Rel, m.Data, 0o644, m.Feature, m.Name)
		}
		// The device's loader (drivers/kmod) reads these, not the modules.
		for name, b := range moduleIndexFiles(mods, builtin) {
			add(modRoot+name, b, 0o644, "kernel", "")
		}
	}
	sf := spec.SettingsFeature
	if sf == "" {
		sf = "settings"
	}
	settings := spec.Settings
	if settings == nil {
		settings = []byte("{}\n")
	}
	add(SettingsPath, settings, 0o644, sf, "")
	svc := spec.Services
	if svc == nil {
		svc = []Service{}
	}
	sb, err := marshalJSON(svc)
	if err != nil {
		return nil, fmt.Errorf("image: services: %w", err)
	}
	add(ServicesPath, sb, 0o644, "base", "")
	for _, f := range spec.Files {
		data := f.Data
		if f.Src != "" {
			b, err := os.ReadFile(f.Src)
			if err != nil {
				return nil, fmt.Errorf("image: file %s for %s (feature %s): %w", f.Src, f.Dst, f.Feature, err)
			}
			data = b
		}
		mode := uint64(f.Mode & 0o7777)
		if mode == 0 {
			mode = 0o644
		}
		add(f.Dst, data, mode, f.Feature, "")
	}
	// Every parent folder must exist before its children.
	for name := range entries {
		for d := path.Dir(name); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; ok {
				break
			}
			entries[d] = &entry{rec: cpio.Directory(d, 0o755), feature: "base"}
		}
	}
	return entries, nil
}

// sortedNames returns the entry names in archive order (parents first).
func sortedNames(entries map[string]*entry) []string {
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// writeCPIO renders the entries as a reproducible newc archive.
func writeCPIO(entries map[string]*entry) ([]byte, error) {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	for _, n := range sortedNames(entries) {
		e := entries[n]
		r := cpio.MakeReproducible(e.rec)
		if e.data != nil {
			r.ReaderAt = bytes.NewReader(e.data)
			r.FileSize = uint64(len(e.data))
		}
		if err := w.WriteRecord(r); err != nil {
			return nil, fmt.Errorf("image: cpio %s: %w", n, err)
		}
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return nil, fmt.Errorf("image: cpio trailer: %w", err)
	}
	return buf.Bytes(), nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// manifest builds the manifest for the assembled image.
func (s *Spec) manifest(k *Kernel, kernel []byte, entries map[string]*entry, cpioBytes, compressed []byte, cmds []Command, tags []string) *Manifest {
	lic := s.Kernel.License
	if lic == "" {
		lic = "GPL-2.0-only"
	}
	m := &Manifest{
		BSP:    s.BSP,
		GOARCH: s.GOARCH,
		Kernel: ManifestKernel{
			Package: s.Kernel.Name, Version: s.Kernel.Version, Arch: s.debArch(), DebSHA: s.Kernel.SHA256,
			Release: k.Release, File: KernelFile, Size: int64(len(kernel)), SHA256: sha256Hex(kernel), License: lic,
		},
		Initramfs:       "initramfs.cpio." + compressionExt[s.Compression],
		Compression:     s.Compression,
		InitramfsSize:   int64(len(compressed)),
		InitramfsSHA256: sha256Hex(compressed),
		CPIOSize:        int64(len(cpioBytes)),
		Cmdline:         s.Cmdline,
		QEMU:            s.QEMU,
		Budget:          s.Budget,
		Features:        append([]string{}, s.Features...),
		BuildTags:       tags,
		Commands:        cmds,
		Services:        s.Services,
	}
	sort.Strings(m.Features)
	if m.Services == nil {
		m.Services = []Service{}
	}
	est := newEstimator()
	var estTotal int64
	for _, n := range sortedNames(entries) {
		e := entries[n]
		f := FileEntry{Path: "/" + n, Mode: fmt.Sprintf("%04o", e.rec.Mode&0o7777), Feature: e.feature, Module: e.module}
		switch e.rec.Mode & cpio.S_IFMT {
		case cpio.S_IFREG:
			f.Type, f.Size, f.SHA256 = "file", int64(len(e.data)), sha256Hex(e.data)
			f.Compressed = est.size(e.data)
		case cpio.S_IFLNK:
			f.Type, f.Size, f.Target = "symlink", int64(len(e.data)), string(e.data)
		case cpio.S_IFDIR:
			f.Type = "dir"
		default:
			f.Type = "dev"
		}
		estTotal += f.Compressed
		m.Files = append(m.Files, f)
	}
	// Scale the per-file estimates so they add up to the real compressed size.
	if estTotal > 0 {
		var sum int64
		last := -1
		for i := range m.Files {
			if m.Files[i].Compressed > 0 {
				m.Files[i].Compressed = m.Files[i].Compressed * int64(len(compressed)) / estTotal
				sum += m.Files[i].Compressed
				last = i
			}
		}
		if last >= 0 {
			m.Files[last].Compressed += int64(len(compressed)) - sum
		}
	}
	return m
}

// budgetError names the biggest contributors and how to fix the overrun.
func budgetError(spec Spec, s *Size) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s needs %s (kernel %s + initramfs %s), budget is %s (over by %s). Biggest contributors:",
		ErrBudget.Error(), spec.BSP, human(s.Total), human(s.Kernel), human(s.Initramfs), human(spec.Budget), human(s.Total-spec.Budget))
	for i, f := range s.Features {
		if i == 5 {
			break
		}
		fmt.Fprintf(&b, "\n  %-28s %9s compressed (%d files)", f.Feature, human(f.Compressed), f.Files)
		if f.Feature == "go" {
			for j, g := range s.Go {
				if j == 4 {
					break
				}
				fmt.Fprintf(&b, "\n      of which %-20s ~%s", g.Feature, human(g.Compressed))
			}
		}
	}
	b.WriteString("\nDrop a feature from the design (SYSGEN_<NAME>= or osdesign.toml), or raise the size budget in the BSP manifest.")
	return &budgetErr{msg: b.String()}
}

type budgetErr struct{ msg string }

func (e *budgetErr) Error() string { return e.msg }
func (e *budgetErr) Unwrap() error { return ErrBudget }

// human formats a byte count.
func human(n int64) string {
	switch {
	case n >= 1<<20 || n <= -(1<<20):
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10 || n <= -(1<<10):
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// findModuleRoot walks up from the working directory to the go.mod.
func findModuleRoot() (string, error) {
	d, err := modroot.Find(".")
	if err != nil {
		return "", fmt.Errorf("image: %w; run sysgen from the repository", err)
	}
	return d, nil
}

// checkOutDir refuses to replace a folder that is not an image folder.
func checkOutDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("image: output folder: %w", err)
	}
	if len(ents) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("image: output folder %s is not empty and holds no %s; pick an empty or new folder", dir, ManifestFile)
	}
	return nil
}

// writeDirAtomic writes files into a temp folder next to dir and renames it
// into place, replacing an earlier image folder.
func writeDirAtomic(dir string, files map[string][]byte, moves map[string]string) error {
	dir = filepath.Clean(dir)
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("image: output: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return fmt.Errorf("image: output: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("image: output: %w", err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return fmt.Errorf("image: output: %w", err)
		}
	}
	for name, src := range moves {
		if err := os.Rename(src, filepath.Join(tmp, name)); err != nil {
			return fmt.Errorf("image: output: %w", err)
		}
	}
	var old string
	if _, err := os.Stat(dir); err == nil {
		old = tmp + ".old"
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("image: replace %s: %w", dir, err)
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		if old != "" {
			os.Rename(old, dir)
		}
		return fmt.Errorf("image: output: %w", err)
	}
	ok = true
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}

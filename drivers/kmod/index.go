// Package kmod indexes and loads Linux kernel modules with their dependency
// closure, without modules.dep.
//
// Debian's kernel packages ship no modules.dep (the postinst script creates
// it with depmod), and a u-root image has no depmod. This package reads the
// depends=, alias= and softdep= fields straight from each module's .modinfo
// ELF section.
//
// The index part (BuildIndex, Index.Closure, Index.Files, ClosureFiles,
// Index.Match) is pure Go with no device-only system calls: the image builder
// runs it on the build host against an unpacked kernel package to decide which
// .ko files go into an image. Loading (Index.Load, Open) is Linux-only and
// uses u-root's pkg/kmodule.
package kmod

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Module is one loadable module found in a modules directory.
type Module struct {
	Info
	// Path is the module file, relative to the index directory, with '/'
	// separators (for example "kernel/drivers/net/virtio_net.ko").
	Path string
}

// Index maps module names to module files of one modules directory
// (/lib/modules/<release>).
type Index struct {
	// Dir is the modules directory the index was built from.
	Dir string
	// Modules maps normalised module names to modules.
	Modules map[string]*Module
	// Builtin holds the names of modules built into the kernel
	// (modules.builtin); they never need loading.
	Builtin map[string]bool
	// builtinAliases maps built-in module names to their alias patterns
	// (modules.builtin.modinfo).
	builtinAliases map[string][]string
}

// ErrUnknownModule is wrapped by errors for module names that are neither in
// the index nor built into the kernel.
var ErrUnknownModule = errors.New("kmod: unknown module")

// BuildIndex reads every module file (.ko, .ko.xz, .ko.zst, .ko.gz) under
// dir, plus modules.builtin and modules.builtin.modinfo when present. It does
// not need modules.dep. It is safe to call on the build host.
func BuildIndex(dir string) (*Index, error) {
	x := &Index{Dir: dir, Modules: map[string]*Module{}, Builtin: map[string]bool{}, builtinAliases: map[string][]string{}}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && isModuleFile(d.Name()) {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kmod: index %s: %w (is it a /lib/modules/<release> directory?)", dir, err)
	}
	sort.Strings(files)
	mods := make([]*Module, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				info, err := readModuleFile(filepath.Join(dir, filepath.FromSlash(files[i])))
				if err != nil {
					errs[i] = fmt.Errorf("kmod: %s: %w", files[i], err)
					continue
				}
				if info.Name == "" {
					info.Name = Normalize(files[i])
				}
				mods[i] = &Module{Info: info, Path: files[i]}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, m := range mods {
		if _, dup := x.Modules[m.Name]; !dup { // sorted paths: first one wins, deterministic
			x.Modules[m.Name] = m
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				x.Builtin[Normalize(l)] = true
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin.modinfo")); err == nil {
		for name, aliases := range ParseBuiltinModinfo(b) {
			x.Builtin[name] = true
			x.builtinAliases[name] = aliases
		}
	}
	return x, nil
}

// ParseBuiltinModinfo parses modules.builtin.modinfo (NUL separated
// "module.key=value" strings) and returns the alias patterns per module.
// Every module named in it appears in the result, possibly with no aliases.
func ParseBuiltinModinfo(b []byte) map[string][]string {
	out := map[string][]string{}
	for _, f := range bytes.Split(b, []byte{0}) {
		mk, v, ok := bytes.Cut(f, []byte{'='})
		if !ok {
			continue
		}
		mod, key, ok := bytes.Cut(mk, []byte{'.'})
		if !ok || len(mod) == 0 {
			continue
		}
		name := modName(string(mod))
		if name == "" {
			continue
		}
		if string(key) == "alias" && len(v) > 0 {
			out[name] = append(out[name], string(v))
		} else if _, seen := out[name]; !seen {
			out[name] = nil
		}
	}
	return out
}

func isModuleFile(name string) bool {
	for _, s := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// Decompress returns a reader of the plain module image in r, chosen by the
// file name's suffix (.ko, .ko.xz, .ko.zst, .ko.gz).
func Decompress(name string, r io.Reader) (io.Reader, error) {
	switch {
	case strings.HasSuffix(name, ".ko"):
		return r, nil
	case strings.HasSuffix(name, ".xz"):
		return xz.NewReader(r)
	case strings.HasSuffix(name, ".zst"):
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	case strings.HasSuffix(name, ".gz"):
		return gzip.NewReader(r)
	}
	return nil, fmt.Errorf("kmod: %s: not a module file (want .ko, .ko.xz, .ko.zst or .ko.gz)", name)
}

// readModuleFile reads the modinfo of a module file, decompressing it first
// when needed.
func readModuleFile(p string) (Info, error) {
	f, err := os.Open(p)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	if strings.HasSuffix(p, ".ko") {
		return ReadModinfo(f)
	}
	r, err := Decompress(p, bufio.NewReader(f))
	if err != nil {
		return Info{}, err
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return Info{}, fmt.Errorf("decompress: %w", err)
	}
	return ReadModinfo(bytes.NewReader(b))
}

// Closure returns the modules to load for names, dependencies first, each
// once, in a stable order: for each name in the given order, its depends=
// (and softdep pre: modules present in the index) come before it. Modules
// built into the kernel are left out. The order of names is kept where
// dependencies allow it: pass snd_hda_codec_generic before snd_hda_intel to
// get it loaded first.
func (x *Index) Closure(names ...string) ([]*Module, error) {
	var out []*Module
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(n string, chain []string, soft bool) error
	visit = func(n string, chain []string, soft bool) error {
		n = Normalize(n)
		switch state[n] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("kmod: dependency cycle: %s -> %s", strings.Join(chain, " -> "), n)
		}
		if x.Builtin[n] {
			state[n] = done
			return nil
		}
		m, ok := x.Modules[n]
		if !ok {
			if soft {
				return nil
			}
			how := "put its .ko file in the image's /lib/modules directory"
			if len(chain) > 0 {
				return fmt.Errorf("%w %q (needed by %s) in %s: %s", ErrUnknownModule, n, strings.Join(chain, " -> "), x.Dir, how)
			}
			return fmt.Errorf("%w %q in %s: %s", ErrUnknownModule, n, x.Dir, how)
		}
		state[n] = visiting
		chain = append(chain, n)
		for _, d := range m.SoftPre {
			if err := visit(d, chain, true); err != nil {
				return err
			}
		}
		for _, d := range m.Depends {
			if err := visit(d, chain, false); err != nil {
				return err
			}
		}
		state[n] = done
		out = append(out, m)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Files returns the closure of names as module file paths relative to
// x.Dir, in load order.
func (x *Index) Files(names ...string) ([]string, error) {
	mods, err := x.Closure(names...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range mods {
		out = append(out, m.Path)
	}
	return out, nil
}

// ClosureFiles indexes dir and returns the module files (relative to dir, in
// load order) needed to load names. It is meant for the image builder on the
// build host: no system calls beyond reading files.
func ClosureFiles(dir string, names ...string) ([]string, error) {
	x, err := BuildIndex(dir)
	if err != nil {
		return nil, err
	}
	return x.Files(names...)
}

// Match returns the names of the loadable modules with an alias pattern
// matching modalias (fnmatch-style: '*', '?', '[...]'), sorted. Built-in
// modules are left out: they need no loading.
func (x *Index) Match(modalias string) []string {
	var out []string
	for name, m := range x.Modules {
		if x.Builtin[name] {
			continue
		}
		for _, a := range m.Aliases {
			if MatchAlias(a, modalias) {
				out = append(out, name)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// MatchBuiltin reports whether a module built into the kernel claims
// modalias, according to modules.builtin.modinfo.
func (x *Index) MatchBuiltin(modalias string) bool {
	for _, as := range x.builtinAliases {
		for _, a := range as {
			if MatchAlias(a, modalias) {
				return true
			}
		}
	}
	return false
}

// MatchAlias reports whether the glob pattern (an alias= value) matches the
// modalias string. A malformed pattern matches nothing.
func MatchAlias(pattern, modalias string) bool {
	ok, err := path.Match(pattern, modalias)
	return err == nil && ok
}

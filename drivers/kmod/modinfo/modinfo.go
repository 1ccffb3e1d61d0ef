// Package modinfo reads kernel module files on the build host: the
// .modinfo ELF section of each module (depends=, alias=, softdep=), plain or
// compressed (.ko.xz, .ko.zst, .ko.gz), and writes the index files
// (modules.dep, modules.alias, modules.softdep) that package kmod reads on
// the device. Debian's kernel packages ship no modules.dep (their postinst
// runs depmod), so the image builder makes it here.
package modinfo

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/oemkit/messenger/drivers/kmod"
	"github.com/ulikunitz/xz"
)

// ErrNoModinfo is returned when an ELF file has no .modinfo section.
var ErrNoModinfo = errors.New("modinfo: no .modinfo section")

// ParseModinfo parses the contents of a .modinfo section: NUL separated
// key=value strings. Unknown keys are ignored.
func ParseModinfo(b []byte) (kmod.Info, error) {
	var in kmod.Info
	for _, f := range bytes.Split(b, []byte{0}) {
		if len(f) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(f, []byte{'='})
		if !ok {
			continue
		}
		switch string(k) {
		case "name":
			in.Name = kmod.Normalize(string(v))
		case "depends":
			for _, d := range strings.Split(string(v), ",") {
				if d = kmod.DepName(d); d != "" {
					in.Depends = append(in.Depends, d)
				}
			}
		case "alias":
			if len(v) > 0 {
				in.Aliases = append(in.Aliases, string(v))
			}
		case "softdep":
			in.SoftPre = append(in.SoftPre, kmod.SoftdepPre(string(v))...)
		case "vermagic":
			in.Vermagic = string(v)
		}
	}
	return in, nil
}

// ReadModinfo reads the .modinfo section of an uncompressed module image.
func ReadModinfo(r io.ReaderAt) (kmod.Info, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return kmod.Info{}, fmt.Errorf("modinfo: read elf: %w", err)
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil || s.Type == elf.SHT_NOBITS {
		return kmod.Info{}, ErrNoModinfo
	}
	b, err := s.Data()
	if err != nil {
		return kmod.Info{}, fmt.Errorf("modinfo: read .modinfo: %w", err)
	}
	return ParseModinfo(b)
}

// BuildIndex reads every module file (.ko, .ko.xz, .ko.zst, .ko.gz) under
// dir, plus modules.builtin and modules.builtin.modinfo when present. It does
// not need modules.dep. It is safe to call on the build host.
func BuildIndex(dir string) (*kmod.Index, error) {
	x := &kmod.Index{Dir: dir, Modules: map[string]*kmod.Module{}, Builtin: map[string]bool{}, BuiltinAliases: map[string][]string{}}
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && kmod.IsModuleFile(d.Name()) {
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("modinfo: index %s: %w (is it a /lib/modules/<release> directory?)", dir, err)
	}
	sort.Strings(files)
	mods := make([]*kmod.Module, len(files))
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
					errs[i] = fmt.Errorf("modinfo: %s: %w", files[i], err)
					continue
				}
				if info.Name == "" {
					info.Name = kmod.Normalize(files[i])
				}
				mods[i] = &kmod.Module{Info: info, Path: files[i]}
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
				x.Builtin[kmod.Normalize(l)] = true
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin.modinfo")); err == nil {
		for name, aliases := range kmod.ParseBuiltinModinfo(b) {
			x.Builtin[name] = true
			x.BuiltinAliases[name] = aliases
		}
	}
	return x, nil
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
	return nil, fmt.Errorf("modinfo: %s: not a module file (want .ko, .ko.xz, .ko.zst or .ko.gz)", name)
}

// readModuleFile reads the modinfo of a module file, decompressing it first
// when needed.
func readModuleFile(p string) (kmod.Info, error) {
	f, err := os.Open(p)
	if err != nil {
		return kmod.Info{}, err
	}
	defer f.Close()
	if strings.HasSuffix(p, ".ko") {
		return ReadModinfo(f)
	}
	r, err := Decompress(p, bufio.NewReader(f))
	if err != nil {
		return kmod.Info{}, err
	}
	if c, ok := r.(io.Closer); ok {
		defer c.Close()
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return kmod.Info{}, fmt.Errorf("decompress: %w", err)
	}
	return ReadModinfo(bytes.NewReader(b))
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

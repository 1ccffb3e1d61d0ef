package image

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemkit/messenger/drivers/kmod"
	"github.com/oemkit/messenger/drivers/kmod/modinfo"
)

// kmodFile is one kernel module chosen for the image.
type kmodFile struct {
	Name    string // normalised module name
	Rel     string // path relative to the modules dir, e.g. kernel/drivers/net/virtio_net.ko
	Data    []byte // uncompressed module image
	Info    kmod.Info
	Feature string // feature or driver credited with it
}

// isModuleFile reports whether p names a (possibly compressed) module.
func isModuleFile(p string) bool {
	for _, s := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// moduleIndex maps normalised module names to their path relative to dir.
func moduleIndex(dir string) (map[string]string, error) {
	idx := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isModuleFile(p) {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		idx[kmod.Normalize(rel)] = filepath.ToSlash(rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image: index kernel modules in %s: %w", dir, err)
	}
	return idx, nil
}

// moduleClosure returns the modules in want plus everything they depend on
// (depends= and softdep pre: from .modinfo), each credited to the first
// feature that needed it, sorted by name, and the kernel's modules.builtin
// (nil when it has none) for moduleIndexFiles.
func moduleClosure(dir string, want []Module) ([]*kmodFile, []byte, error) {
	if len(want) == 0 {
		return nil, nil, nil
	}
	idx, err := moduleIndex(dir)
	if err != nil {
		return nil, nil, err
	}
	builtinFile, _ := os.ReadFile(filepath.Join(dir, kmod.BuiltinFile))
	builtin := map[string]bool{}
	for _, l := range strings.Fields(string(builtinFile)) {
		builtin[kmod.Normalize(l)] = true
	}
	got := map[string]*kmodFile{}
	var load func(name, feature string, soft bool) error
	load = func(name, feature string, soft bool) error {
		name = kmod.Normalize(name)
		if _, ok := got[name]; ok || builtin[name] {
			return nil
		}
		rel, ok := idx[name]
		if !ok {
			if soft {
				return nil // soft dependencies may be absent or built in
			}
			return fmt.Errorf("image: kernel module %q (needed by %s) is not in %s; it may be built into the kernel (drop it from the driver's module list) or named differently", name, feature, dir)
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return fmt.Errorf("image: kernel module %s: %w", name, err)
		}
		if !strings.HasSuffix(rel, ".ko") {
			// Store modules uncompressed: the initramfs is compressed as
			// a whole, and the device's loader then needs no decompressor.
			r, err := modinfo.Decompress(rel, bytes.NewReader(data))
			if err == nil {
				data, err = io.ReadAll(r)
			}
			if err != nil {
				return fmt.Errorf("image: kernel module %s: decompress: %w", rel, err)
			}
			rel = rel[:strings.LastIndex(rel, ".ko")+3]
		}
		info, err := modinfo.ReadModinfo(bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("image: kernel module %s: %w", rel, err)
		}
		m := &kmodFile{Name: name, Rel: rel, Data: data, Info: info, Feature: feature}
		got[name] = m
		for _, d := range info.Depends {
			if err := load(d, feature, false); err != nil {
				return err
			}
		}
		for _, d := range info.SoftPre {
			if err := load(d, feature, true); err != nil {
				return err
			}
		}
		return nil
	}
	for _, w := range want {
		if err := load(w.Name, w.Feature, false); err != nil {
			return nil, nil, err
		}
	}
	out := make([]*kmodFile, 0, len(got))
	for _, m := range got {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, builtinFile, nil
}

// moduleIndexFiles returns the index files written beside the chosen
// modules: modules.dep, modules.alias and modules.softdep from their
// .modinfo, and the kernel's modules.builtin as moduleClosure read it (so
// built-in modules are not looked for), keyed by file name.
func moduleIndexFiles(mods []*kmodFile, builtin []byte) map[string][]byte {
	km := make([]*kmod.Module, len(mods))
	for i, m := range mods {
		km[i] = &kmod.Module{Info: m.Info, Path: m.Rel}
	}
	files := modinfo.IndexFiles(km)
	if builtin != nil {
		files[kmod.BuiltinFile] = builtin
	}
	return files
}

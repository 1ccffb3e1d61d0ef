// Package kmod loads Linux kernel modules with their dependency closure on
// the device, from the index files the image builder writes beside them:
// modules.dep (depmod format), modules.alias, modules.softdep,
// modules.builtin and modules.builtin.modinfo. It parses no ELF and carries
// no decompressor: the image stores modules uncompressed, and a compressed
// module file is handed to the kernel to decompress (finit_module with
// MODULE_INIT_COMPRESSED_FILE).
//
// Reading module files themselves (the .modinfo ELF section, .ko.xz and
// .ko.zst) is the build host's job: package kmod/modinfo.
package kmod

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
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
	// BuiltinAliases maps built-in module names to their alias patterns
	// (modules.builtin.modinfo).
	BuiltinAliases map[string][]string
}

// ErrUnknownModule is wrapped by errors for module names that are neither in
// the index nor built into the kernel.
var ErrUnknownModule = errors.New("kmod: unknown module")

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
		name := DepName(string(mod))
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

// IsModuleFile reports whether name is a module file (.ko, .ko.xz,
// .ko.zst, .ko.gz).
func IsModuleFile(name string) bool {
	for _, s := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
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
	for _, as := range x.BuiltinAliases {
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

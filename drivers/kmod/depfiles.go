package kmod

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Index files in a modules directory, as depmod names them.
const (
	DepFile             = "modules.dep"
	AliasFile           = "modules.alias"
	SoftdepFile         = "modules.softdep"
	BuiltinFile         = "modules.builtin"
	BuiltinModinfoFile  = "modules.builtin.modinfo"
	maxIndexFile        = 16 << 20 // bytes of one index file
	maxIndexLine        = 64 << 10 // bytes of one line
	maxModules          = 100000   // entries of modules.dep
	maxAliasesPerModule = 10000
)

// ErrNoModulesDep is wrapped when a modules directory has no modules.dep.
var ErrNoModulesDep = errors.New("kmod: no modules.dep")

// LoadIndex reads the index files of a modules directory (modules.dep,
// and modules.alias, modules.softdep, modules.builtin and
// modules.builtin.modinfo when present). It reads no module file.
func LoadIndex(dir string) (*Index, error) {
	x := &Index{Dir: dir, Modules: map[string]*Module{}, Builtin: map[string]bool{}, BuiltinAliases: map[string][]string{}}
	read := func(name string, need bool) ([]byte, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			if !need && errors.Is(err, os.ErrNotExist) {
				return nil, nil
			}
			if errors.Is(err, os.ErrNotExist) && name == DepFile {
				return nil, fmt.Errorf("%w in %s: the image builder writes it beside the modules (sysgen build), or run depmod", ErrNoModulesDep, dir)
			}
			return nil, fmt.Errorf("kmod: %w", err)
		}
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, maxIndexFile+1))
		if err != nil {
			return nil, fmt.Errorf("kmod: %s: %w", name, err)
		}
		if len(b) > maxIndexFile {
			return nil, fmt.Errorf("kmod: %s in %s is over %d MB: not a module index", name, dir, maxIndexFile>>20)
		}
		return b, nil
	}
	dep, err := read(DepFile, true)
	if err != nil {
		return nil, err
	}
	mods, err := ParseModulesDep(bytes.NewReader(dep))
	if err != nil {
		return nil, fmt.Errorf("kmod: %s: %w", filepath.Join(dir, DepFile), err)
	}
	for _, m := range mods {
		if _, dup := x.Modules[m.Name]; !dup {
			x.Modules[m.Name] = m
		}
	}
	lists := []struct {
		file  string
		parse func(io.Reader) (map[string][]string, error)
		field func(*Module) *[]string
	}{
		{AliasFile, ParseModulesAlias, func(m *Module) *[]string { return &m.Aliases }},
		{SoftdepFile, ParseModulesSoftdep, func(m *Module) *[]string { return &m.SoftPre }},
	}
	for _, l := range lists {
		b, err := read(l.file, false)
		if err != nil {
			return nil, err
		}
		per, err := l.parse(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("kmod: %s: %w", filepath.Join(dir, l.file), err)
		}
		for name, v := range per {
			if m := x.Modules[name]; m != nil {
				*l.field(m) = append(*l.field(m), v...)
			}
		}
	}
	if b, err := read(BuiltinFile, false); err != nil {
		return nil, err
	} else {
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				x.Builtin[Normalize(l)] = true
			}
		}
	}
	if b, err := read(BuiltinModinfoFile, false); err != nil {
		return nil, err
	} else {
		for name, aliases := range ParseBuiltinModinfo(b) {
			x.Builtin[name] = true
			x.BuiltinAliases[name] = aliases
		}
	}
	return x, nil
}

// lines calls f for each non-empty, non-comment line of r, with its
// number; lines over maxIndexLine bytes are an error.
func lines(r io.Reader, f func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxIndexLine)
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		if err := f(n, l); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("line %d: %w", n+1, err)
	}
	return nil
}

// ParseModulesDep parses modules.dep ("path.ko: dep1.ko dep2.ko" per
// line, paths relative to the modules directory) into modules with their
// dependencies. Paths that leave the directory are an error.
func ParseModulesDep(r io.Reader) ([]*Module, error) {
	var out []*Module
	err := lines(r, func(n int, l string) error {
		p, deps, ok := strings.Cut(l, ":")
		p = strings.TrimSpace(p)
		if !ok || !IsModuleFile(p) || !localPath(p) {
			return fmt.Errorf("line %d: %q is not \"path.ko: deps...\" with a path inside the modules folder", n, l)
		}
		if len(out) >= maxModules {
			return fmt.Errorf("over %d modules", maxModules)
		}
		m := &Module{Info: Info{Name: Normalize(p)}, Path: p}
		for _, d := range strings.Fields(deps) {
			if !IsModuleFile(d) {
				return fmt.Errorf("line %d: dependency %q is not a module file", n, d)
			}
			m.Depends = append(m.Depends, Normalize(d))
		}
		out = append(out, m)
		return nil
	})
	return out, err
}

// localPath reports whether p is a relative, clean path that stays inside
// its folder.
func localPath(p string) bool {
	return filepath.IsLocal(p) && !strings.Contains(p, "\\")
}

// ParseModulesAlias parses modules.alias ("alias PATTERN module" per line)
// into alias patterns per module.
func ParseModulesAlias(r io.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	err := lines(r, func(n int, l string) error {
		f := strings.Fields(l)
		if len(f) != 3 || f[0] != "alias" {
			return fmt.Errorf("line %d: %q is not \"alias PATTERN module\"", n, l)
		}
		name := DepName(f[2])
		if name == "" {
			return fmt.Errorf("line %d: %q is not a module name", n, f[2])
		}
		if len(out[name]) >= maxAliasesPerModule {
			return fmt.Errorf("line %d: over %d aliases for %s", n, maxAliasesPerModule, name)
		}
		out[name] = append(out[name], f[1])
		return nil
	})
	return out, err
}

// ParseModulesSoftdep parses modules.softdep ("softdep module pre: a b
// post: c" per line) into the pre: modules per module.
func ParseModulesSoftdep(r io.Reader) (map[string][]string, error) {
	out := map[string][]string{}
	err := lines(r, func(n int, l string) error {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "softdep" || DepName(f[1]) == "" {
			return fmt.Errorf("line %d: %q is not \"softdep module pre: ... post: ...\"", n, l)
		}
		name := DepName(f[1])
		out[name] = append(out[name], SoftdepPre(strings.Join(f[2:], " "))...)
		return nil
	})
	return out, err
}

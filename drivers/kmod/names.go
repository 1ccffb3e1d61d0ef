package kmod

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Info is what a module's .modinfo section says about it.
type Info struct {
	// Name is the module name with '-' replaced by '_' (the kernel's form).
	Name string
	// Depends lists the modules that must be loaded first, normalised.
	Depends []string
	// Aliases are the modalias patterns (fnmatch globs) the module binds to.
	Aliases []string
	// SoftPre lists "softdep=pre:" modules, loaded before this one when present.
	SoftPre []string
	// Vermagic is the kernel version string the module was built for.
	Vermagic string
}

// ErrNoModinfo is returned when an ELF file has no .modinfo section.
var ErrNoModinfo = errors.New("kmod: no .modinfo section")

// Normalize returns the kernel's form of a module name: '-' becomes '_' and
// any directory and .ko/.ko.xz/.ko.zst/.ko.gz suffix are removed.
func Normalize(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.Index(name, ".ko"); i >= 0 && (len(name) == i+3 || name[i+3] == '.') {
		name = name[:i]
	}
	return strings.ReplaceAll(name, "-", "_")
}

// modName normalises a module name from a depends= or softdep= list; it
// returns "" for something that cannot be a module name.
func modName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "/\x00") {
		return ""
	}
	return strings.ReplaceAll(s, "-", "_")
}

// ParseModinfo parses the contents of a .modinfo section: NUL separated
// key=value strings. Unknown keys are ignored.
func ParseModinfo(b []byte) (Info, error) {
	var in Info
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
			in.Name = Normalize(string(v))
		case "depends":
			for _, d := range strings.Split(string(v), ",") {
				if d = modName(d); d != "" {
					in.Depends = append(in.Depends, d)
				}
			}
		case "alias":
			if len(v) > 0 {
				in.Aliases = append(in.Aliases, string(v))
			}
		case "softdep":
			in.SoftPre = append(in.SoftPre, parseSoftdepPre(string(v))...)
		case "vermagic":
			in.Vermagic = string(v)
		}
	}
	return in, nil
}

// parseSoftdepPre returns the module names after "pre:" in a softdep value
// such as "pre: crc32c post: foo".
func parseSoftdepPre(v string) []string {
	var out []string
	pre := false
	for _, w := range strings.Fields(v) {
		switch {
		case w == "pre:":
			pre = true
		case strings.HasSuffix(w, ":"):
			pre = false
		case pre:
			if w = modName(w); w != "" {
				out = append(out, w)
			}
		}
	}
	return out
}

// ReadModinfo reads the .modinfo section of an uncompressed module image.
func ReadModinfo(r io.ReaderAt) (Info, error) {
	f, err := elf.NewFile(r)
	if err != nil {
		return Info{}, fmt.Errorf("kmod: read elf: %w", err)
	}
	defer f.Close()
	s := f.Section(".modinfo")
	if s == nil || s.Type == elf.SHT_NOBITS {
		return Info{}, ErrNoModinfo
	}
	b, err := s.Data()
	if err != nil {
		return Info{}, fmt.Errorf("kmod: read .modinfo: %w", err)
	}
	return ParseModinfo(b)
}

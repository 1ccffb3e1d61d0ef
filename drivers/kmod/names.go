package kmod

import "strings"

// Info is what the image builder learnt about a module from its .modinfo
// section (package kmod/modinfo) and the device reads back from modules.dep,
// modules.alias and modules.softdep.
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

// DepName normalises a module name from a depends= or softdep= list; it
// returns "" for something that cannot be a module name.
func DepName(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "/\x00") {
		return ""
	}
	return strings.ReplaceAll(s, "-", "_")
}

// SoftdepPre returns the module names after "pre:" in a softdep value
// such as "pre: crc32c post: foo".
func SoftdepPre(v string) []string {
	var out []string
	pre := false
	for _, w := range strings.Fields(v) {
		switch {
		case w == "pre:":
			pre = true
		case strings.HasSuffix(w, ":"):
			pre = false
		case pre:
			if w = DepName(w); w != "" {
				out = append(out, w)
			}
		}
	}
	return out
}

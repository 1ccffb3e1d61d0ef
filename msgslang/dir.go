package msgslang

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoLocale is wrapped when a locale has no file.
var ErrNoLocale = errors.New("locale not available")

// Available returns the canonical names of the locale files in dir
// (files named <locale>.toml), sorted. It does not parse them.
func Available(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("msgslang: %w", err)
	}
	var names []string
	for _, e := range ents {
		base, ok := strings.CutSuffix(e.Name(), Ext)
		if !ok || e.IsDir() {
			continue
		}
		if n, err := Canonical(base); err == nil && n == base {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Resolve maps locale names from a design file (names like "de-DE" or
// "de_DE", or CE LCIDs like "0407") to the paths of their files in dir,
// parsing each to be sure it is usable. Duplicates are dropped. This is
// what an image build copies to DefaultDir.
func Resolve(dir string, names []string) ([]string, error) {
	var paths []string
	seen := map[string]bool{}
	for _, n := range names {
		c, err := Canonical(n)
		if err != nil {
			return nil, err
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		path := filepath.Join(dir, FileName(c))
		if _, err := os.Stat(path); err != nil {
			avail, _ := Available(dir)
			return nil, fmt.Errorf("msgslang: %s: %w in %s (available: %s; add %s or pick another)", c, ErrNoLocale, dir, strings.Join(avail, " "), FileName(c))
		}
		l, err := ReadFile(path)
		if err != nil {
			return nil, err
		}
		if l.Name != c {
			return nil, fmt.Errorf("msgslang: %s declares locale = %q; fix its locale line", path, l.Name)
		}
		paths = append(paths, path)
	}
	return paths, nil
}

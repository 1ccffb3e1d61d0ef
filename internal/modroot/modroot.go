// Package modroot finds the Go module a folder belongs to: the nearest
// folder above it holding go.mod, and the module path that go.mod declares.
// sysgen uses it to find the catalog and the image builder to find the
// module it builds from.
package modroot

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNotFound is wrapped when no folder above the start holds go.mod.
var ErrNotFound = errors.New("no go.mod found")

// maxGoMod bounds how much of a go.mod Path reads.
const maxGoMod = 1 << 20

// Find returns the nearest folder at or above dir that holds go.mod, as an
// absolute path.
func Find(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("modroot: %w", err)
	}
	for {
		if fi, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !fi.IsDir() {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w at or above %s", ErrNotFound, dir)
		}
		d = parent
	}
}

// Path returns the module path declared by root/go.mod.
func Path(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("modroot: %w", err)
	}
	defer f.Close()
	return parseModule(f.Name(), bufio.NewScanner(&limitedReader{f: f, n: maxGoMod}))
}

func parseModule(name string, sc *bufio.Scanner) (string, error) {
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, "`") {
			u, err := strconv.Unquote(rest)
			if err != nil {
				return "", fmt.Errorf("modroot: %s: module path %s is badly quoted", name, rest)
			}
			rest = u
		}
		if rest == "" || strings.ContainsAny(rest, " \t") {
			return "", fmt.Errorf("modroot: %s: module line %q has no single module path", name, line)
		}
		return rest, nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("modroot: %s: %w", name, err)
	}
	return "", fmt.Errorf("modroot: %s has no module line; add one, e.g. module example.com/device", name)
}

type limitedReader struct {
	f interface{ Read([]byte) (int, error) }
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("go.mod is larger than %d bytes", maxGoMod)
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// Package modroot finds the Go module a folder belongs to: the nearest
// folder above it holding go.mod, and the module path that go.mod declares.
// sysgen uses it to find the catalog and the image builder to find the
// module it builds from.
package modroot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
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
	data, err := io.ReadAll(io.LimitReader(f, maxGoMod+1))
	if err != nil {
		return "", fmt.Errorf("modroot: %s: %w", f.Name(), err)
	}
	return modulePath(f.Name(), data)
}

func modulePath(name string, data []byte) (string, error) {
	if len(data) > maxGoMod {
		return "", fmt.Errorf("modroot: %s is larger than %d bytes", name, maxGoMod)
	}
	mf, err := modfile.ParseLax(name, data, nil)
	if err != nil {
		return "", fmt.Errorf("modroot: %w", err)
	}
	if mf.Module == nil || mf.Module.Mod.Path == "" {
		return "", fmt.Errorf("modroot: %s has no module line; add one, e.g. module example.com/device", name)
	}
	if err := module.CheckImportPath(mf.Module.Mod.Path); err != nil {
		return "", fmt.Errorf("modroot: %s: %w", name, err)
	}
	return mf.Module.Mod.Path, nil
}

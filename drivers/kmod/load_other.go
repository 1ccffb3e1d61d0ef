//go:build !linux

package kmod

import "errors"

// ErrNotLinux is returned by the loading functions on other systems.
var ErrNotLinux = errors.New("kmod: loading kernel modules needs Linux")

// Open indexes the running kernel's modules directory (Linux only).
func Open() (*Index, error) { return nil, ErrNotLinux }

// LoadedModules returns the loaded modules (Linux only).
func LoadedModules() (map[string]bool, error) { return nil, ErrNotLinux }

// Load loads the closure of names (Linux only).
func (x *Index) Load(params map[string]string, names ...string) ([]string, error) {
	return nil, ErrNotLinux
}

// LoadAlias loads the modules matching modalias (Linux only).
func (x *Index) LoadAlias(modalias string) ([]string, error) { return nil, ErrNotLinux }

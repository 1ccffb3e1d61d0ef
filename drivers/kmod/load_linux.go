package kmod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Open reads the index of the running kernel's modules directory,
// /lib/modules/<release> (modules.dep and the files beside it).
func Open() (*Index, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("kmod: uname: %w", err)
	}
	return LoadIndex(filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:])))
}

// LoadedModules returns the modules the running kernel has loaded, from
// /proc/modules.
func LoadedModules() (map[string]bool, error) {
	f, err := os.Open("/proc/modules")
	if err != nil {
		return nil, fmt.Errorf("kmod: %w", err)
	}
	defer f.Close()
	return ParseProcModules(f)
}

// isLoaded reports whether a module is loaded or built in.
func isLoaded(loaded map[string]bool, name string) bool {
	if loaded[name] {
		return true
	}
	_, err := os.Stat(filepath.Join("/sys/module", name, "initstate"))
	return err == nil
}

// Load loads the closure of names in order, skipping modules that are
// already loaded (/proc/modules, /sys/module/<name>/initstate). params maps a
// module name to its parameters ("key=value key2=value"); it may be nil. It
// returns the names of the modules it loaded.
func (x *Index) Load(params map[string]string, names ...string) ([]string, error) {
	mods, err := x.Closure(names...)
	if err != nil {
		return nil, err
	}
	loaded, err := LoadedModules()
	if err != nil {
		return nil, err
	}
	var did []string
	for _, m := range mods {
		if isLoaded(loaded, m.Name) {
			continue
		}
		if err := loadFile(filepath.Join(x.Dir, filepath.FromSlash(m.Path)), params[m.Name]); err != nil {
			return did, fmt.Errorf("kmod: load %s (%s): %w", m.Name, m.Path, err)
		}
		loaded[m.Name] = true
		did = append(did, m.Name)
	}
	return did, nil
}

// LoadAlias loads the modules whose aliases match modalias, with their
// closure. It returns the names of the modules it loaded.
func (x *Index) LoadAlias(modalias string) ([]string, error) {
	return x.Load(nil, x.Match(modalias)...)
}

func loadFile(p, params string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if !strings.HasSuffix(p, ".ko") {
		// The kernel decompresses it (CONFIG_MODULE_DECOMPRESS): the
		// device carries no decompressor of its own.
		flags = unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), params, flags); err != nil && !errors.Is(err, unix.EEXIST) {
		if flags != 0 && errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("%w (the kernel cannot decompress modules itself: store them uncompressed in the image)", err)
		}
		if errors.Is(err, unix.EPERM) {
			return fmt.Errorf("%w (loading modules needs root and CAP_SYS_MODULE)", err)
		}
		return err
	}
	return nil
}

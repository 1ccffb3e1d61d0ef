//go:build !linux

package msnftp

import (
	"errors"
	"os"
)

// freeSpace is not implemented off Linux; the free-space check is skipped.
func freeSpace(dir string) (int64, error) {
	return 1 << 62, nil
}

// renameNoReplace moves oldpath to newpath without replacing newpath.
func renameNoReplace(oldpath, newpath string) error {
	return linkUnlink(oldpath, newpath)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return nil
}

// reserve is a no-op off Linux.
func reserveRange(f *os.File, off, n int64) error { return nil }

//go:build !linux

package disk

import (
	"errors"
	"os"
)

func inspectTarget(name, mountInfo string) (*target, error) {
	return nil, errors.New("flash: writing disks needs Linux")
}

func diskOf(maj, min int) string { return "" }

func dropCache(*os.File) {}

func isNoSpace(error) bool { return false }

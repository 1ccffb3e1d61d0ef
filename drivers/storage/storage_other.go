//go:build !linux

package storage

import "errors"

func loadModules(names ...string) ([]string, error) {
	return nil, errors.New("storage: loading kernel modules needs Linux")
}

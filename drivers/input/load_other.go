//go:build !linux

package input

import "errors"

func loadModules(names ...string) ([]string, error) {
	return nil, errors.New("input: loading kernel modules needs Linux")
}

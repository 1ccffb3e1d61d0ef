//go:build !linux

package display

import "errors"

func loadModules(names ...string) ([]string, error) {
	return nil, errors.New("display: loading kernel modules needs Linux")
}

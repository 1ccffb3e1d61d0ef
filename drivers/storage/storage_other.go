//go:build !linux

package storage

import (
	"errors"
	"time"
)

func waitNode(dir, pattern string, timeout time.Duration) bool {
	return pollNode(dir, pattern, timeout)
}

func loadModules(names ...string) ([]string, error) {
	return nil, errors.New("storage: loading kernel modules needs Linux")
}

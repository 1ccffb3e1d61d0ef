//go:build !linux

package input

import (
	"context"
	"errors"
)

// Source is one event from one device.
type Source struct {
	Device string
	Event
}

// Open fails: evdev needs Linux.
func Open(ctx context.Context, devDir string) (<-chan Source, []string, error) {
	return nil, nil, errors.New("input: evdev needs Linux")
}

//go:build !linux

package display

import (
	"errors"
	"image"
)

// FB is a framebuffer; only Linux has them.
type FB struct {
	Size   image.Point
	Stride int
	Format Format
}

// Open fails: framebuffers need Linux.
func Open(path string) (*FB, error) { return nil, errors.New("display: framebuffers need Linux") }

// Blit does nothing.
func (fb *FB) Blit(img *image.RGBA, r image.Rectangle) error { return nil }

// Close does nothing.
func (fb *FB) Close() error { return nil }

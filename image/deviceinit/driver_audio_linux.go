//go:build sysgen_audio_hda

package main

import (
	"context"
	"time"

	"github.com/oemkit/messenger/drivers/audio"
)

// The audio driver is linked when the design has SYSGEN_AUDIO_HDA; the
// self-test plays its tone through it at 48 kHz stereo.
func init() {
	playTone = func(ctx context.Context, hz float64, d time.Duration) error {
		return audio.PlayTone(hz, d, 48000, 2)
	}
}

package alsa

import (
	"errors"
	"fmt"
	"time"
)

// Stream is the direction of a PCM.
type Stream int

// Streams.
const (
	Playback Stream = iota
	Capture
)

func (s Stream) String() string {
	if s == Capture {
		return "capture"
	}
	return "playback"
}

// Config is what the caller asks of the hardware. Zero fields take defaults.
type Config struct {
	// Rate in Hz and Channels are what the caller wants; the hardware may
	// give something else (see Choose), reported by PCM.Rate/Channels.
	Rate, Channels int
	// PeriodSize in frames (default 1024) and Periods per buffer (default 4).
	PeriodSize, Periods int
	// PeriodTime, when set, sizes the period in time instead of frames
	// (PeriodSize is then PeriodTime at the hardware rate): a voice call
	// asks for its 20 ms frame so that each capture wakeup is one packet.
	PeriodTime time.Duration
	// StartTime is how much queued playback starts the stream; 0 means half
	// the buffer. Each millisecond queued before the start is a millisecond
	// of latency for the rest of the stream.
	StartTime time.Duration
}

// ErrNoDevice is wrapped when the PCM device node does not exist.
var ErrNoDevice = errors.New("alsa: no such PCM device")

// DevicePath returns /dev/snd/pcmC<card>D<device><p|c> under devRoot.
func DevicePath(devRoot string, card, device int, s Stream) string {
	c := 'p'
	if s == Capture {
		c = 'c'
	}
	return fmt.Sprintf("%s/snd/pcmC%dD%d%c", devRoot, card, device, c)
}

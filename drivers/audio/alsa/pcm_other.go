//go:build !linux

package alsa

import "errors"

// ErrNotLinux is returned by Open on other systems.
var ErrNotLinux = errors.New("alsa: ALSA needs Linux")

// PCM is an open PCM stream (Linux only).
type PCM struct{}

// Open opens a PCM device (Linux only).
func Open(path string, s Stream, cfg Config) (*PCM, error) { return nil, ErrNotLinux }

// Rate returns the hardware rate.
func (p *PCM) Rate() int { return 0 }

// Channels returns the hardware channel count.
func (p *PCM) Channels() int { return 0 }

// WriteFrames plays samples.
func (p *PCM) WriteFrames(buf []int16) (int, error) { return 0, ErrNotLinux }

// ReadFrames captures samples.
func (p *PCM) ReadFrames(buf []int16) (int, error) { return 0, ErrNotLinux }

// Drain waits for playback to finish.
func (p *PCM) Drain() error { return ErrNotLinux }

// Close closes the device.
func (p *PCM) Close() error { return ErrNotLinux }

// PeriodSize returns the period size in frames.
func (p *PCM) PeriodSize() int { return 0 }

// Xruns returns the number of recovered xruns.
func (p *PCM) Xruns() int { return 0 }

// Stalls returns the number of recovered capture stalls.
func (p *PCM) Stalls() int { return 0 }

// Delay returns the stream's delay in frames.
func (p *PCM) Delay() (int, error) { return 0, ErrNotLinux }

// ReadAvail captures what the ring holds.
func (p *PCM) ReadAvail(buf []int16) (int, error) { return 0, ErrNotLinux }

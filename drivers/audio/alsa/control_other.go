//go:build !linux

package alsa

// UnmutePlayback sets the mixer (Linux only).
func UnmutePlayback(devRoot string, card int) ([]string, error) { return nil, ErrNotLinux }

// UnmuteCapture sets the mixer (Linux only).
func UnmuteCapture(devRoot string, card int) ([]string, error) { return nil, ErrNotLinux }

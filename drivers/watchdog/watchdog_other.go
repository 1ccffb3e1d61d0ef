//go:build !linux

package watchdog

import (
	"errors"
	"time"
)

var errNotLinux = errors.New("watchdog: hardware watchdogs are driven on Linux only")

func loadModules(...string) ([]string, error) { return nil, errNotLinux }

// Open returns an error off Linux.
func Open(string, time.Duration) (*Dev, error) { return nil, errNotLinux }

// SetTimeout returns an error off Linux.
func (w *Dev) SetTimeout(time.Duration) error { return errNotLinux }

// Kick returns an error off Linux.
func (w *Dev) Kick() error { return errNotLinux }

// Disarm returns an error off Linux.
func (w *Dev) Disarm() error { return errNotLinux }

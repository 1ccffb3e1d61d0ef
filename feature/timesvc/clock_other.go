//go:build !linux

package timesvc

import (
	"errors"
	"time"
)

// SystemClock is the device's clock; setting it is implemented for Linux
// only.
type SystemClock struct{}

var errNotLinux = errors.New("timesvc: setting the system clock is implemented for Linux devices only")

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Step fails: not a Linux device.
func (SystemClock) Step(time.Duration) error { return errNotLinux }

// Slew fails: not a Linux device.
func (SystemClock) Slew(time.Duration) error { return errNotLinux }

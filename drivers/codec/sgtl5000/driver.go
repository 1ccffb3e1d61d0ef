package sgtl5000

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oemkit/messenger/drivers/i2cdev"
	"github.com/oemkit/messenger/drivers/inittime"
	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/i2c"
)

// Driver is the driverreg driver "sgtl5000".
type Driver struct {
	// DevRoot is where the /dev/i2c-N nodes are, "/dev".
	DevRoot string
	// Open opens bus n; nil uses i2cdev.
	Open func(n int) (i2c.BusCloser, error)
	// Opts for the codec; nil uses DefaultOpts.
	Opts *Opts
}

var (
	mu    sync.Mutex
	found *Dev
)

// Found returns the codec bound by driverreg.Init, or nil.
func Found() *Dev {
	mu.Lock()
	defer mu.Unlock()
	return found
}

// ErrNoCodec is the reason the driver is skipped.
var ErrNoCodec = errors.New("sgtl5000: no SGTL5000 on any /dev/i2c-N bus at 0x0a or 0x2a")

// String returns "sgtl5000".
func (d *Driver) String() string { return "sgtl5000" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init probes every I2C bus for the codec and sets it up: skipped (false)
// when no bus or no codec answers, an error when a codec answered but could
// not be set up.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	open := d.Open
	if open == nil {
		open = func(n int) (i2c.BusCloser, error) { return i2cdev.Open(d.DevRoot, n) }
	}
	for _, n := range i2cdev.Buses(d.DevRoot) {
		bus, err := open(n)
		if err != nil {
			continue
		}
		for _, addr := range []uint16{Addr, AltAddr} {
			if _, err := Probe(bus, addr); err != nil {
				continue
			}
			dev, err := New(bus, addr, d.Opts)
			if err != nil {
				bus.Close()
				return true, fmt.Errorf("sgtl5000: set up codec at %#x on %s: %w", addr, bus, err)
			}
			mu.Lock()
			found = dev
			mu.Unlock()
			return true, nil // the bus stays open for the codec
		}
		bus.Close()
	}
	return false, ErrNoCodec
}

func init() {
	driverreg.MustRegister(&Driver{DevRoot: "/dev"})
}

// Package watchdog is the "watchdog" driver (SYSGEN_WATCHDOG): it binds
// the board's hardware watchdog by PCI ID (QEMU's -device i6300esb, the
// Intel 6300ESB timer, through the kernel module i6300esb) and waits for
// the kernel's /dev/watchdog. Binding does not start the timer: Open arms
// it with a timeout (the WDIOC_SETTIMEOUT ioctl), after which the board
// resets unless the device is kicked (WDIOC_KEEPALIVE) within the timeout.
//
// The device init arms it once the drivers are bound: a running system
// kicks it while it is healthy; a trial boot of an update (SYSGEN_UPDATE)
// leaves it unkicked until its health check passes, so a trial that hangs
// (the init or the kernel stuck before the check) is reset and the loader's
// boot counter takes the device back to the old slot. Importing the
// package registers the driver with periph's driverreg.
package watchdog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/oemkit/messenger/drivers/inittime"
	"github.com/oemkit/messenger/drivers/sysfs"
	"periph.io/x/conn/v3/driver/driverreg"
)

// Timer is a watchdog timer the driver knows, by PCI ID.
type Timer struct {
	Vendor, Device uint32
	Name           string
	Modules        []string
}

// Timers are the watchdog timers the driver binds.
var Timers = []Timer{
	{0x8086, 0x25ab, "Intel 6300ESB watchdog timer (QEMU -device i6300esb)", []string{"i6300esb"}},
}

// Bound is a watchdog timer found on the board.
type Bound struct {
	Device sysfs.Device
	Timer  Timer
}

// Find lists the watchdog timers under the sysfs root ("/sys").
func Find(sysRoot string) ([]Bound, error) {
	devs, err := sysfs.Devices(sysRoot, "pci")
	if err != nil {
		return nil, err
	}
	var out []Bound
	for _, d := range devs {
		for _, t := range Timers {
			if t.Vendor == d.Vendor && t.Device == d.Device {
				out = append(out, Bound{Device: d, Timer: t})
			}
		}
	}
	return out, nil
}

// ErrNoWatchdog is the reason the driver is skipped on a board without a
// watchdog timer it knows.
var ErrNoWatchdog = errors.New("watchdog: no hardware watchdog on this board (known: Intel 6300ESB, QEMU -device i6300esb): nothing resets the device if it hangs, and a trial boot of an update that hangs before its health check stays hung until it is power-cycled (a kernel panic still reboots it)")

// ErrNoDevice is returned when the timer is bound but no device node
// appeared.
var ErrNoDevice = errors.New("watchdog: the timer is bound but no /dev/watchdog appeared (the kernel needs CONFIG_WATCHDOG_CORE)")

// DefaultBootTimeout is how long the timer runs from the driver's bind
// until the device init takes it over (Armed): the rest of the drivers,
// the state partition, the self-test. A boot that hangs there is reset.
const DefaultBootTimeout = 5 * time.Minute

// Driver is the driverreg driver.
type Driver struct {
	SysRoot string // "/sys"
	DevDir  string // "/dev"
	// Timeout bounds the wait for the device node.
	Timeout time.Duration
	// BootTimeout is the timer's first timeout (DefaultBootTimeout).
	BootTimeout time.Duration
	// Load loads modules with their closure; nil uses kmod.
	Load func(names ...string) ([]string, error)
	// Arm starts the timer; nil uses Open.
	Arm func(path string, timeout time.Duration) (*Dev, error)
}

var (
	armedMu sync.Mutex
	armed   *Dev
)

// Armed is the watchdog the driver started at bind, or nil (no timer, or
// it could not be started). Whoever takes it over must kick it.
func Armed() *Dev {
	armedMu.Lock()
	defer armedMu.Unlock()
	return armed
}

// String returns "watchdog".
func (d *Driver) String() string { return "watchdog" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init loads the timer's module, waits for its device node and starts the
// timer with BootTimeout (Armed returns it), so that from here on a boot
// that hangs before the device init takes the timer over is reset. It is
// skipped (ErrNoWatchdog) on a board without a known timer.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	load := d.Load
	if load == nil {
		load = loadModules
	}
	found, err := Find(d.SysRoot)
	if err != nil {
		return true, fmt.Errorf("watchdog: %w", err)
	}
	if len(found) == 0 {
		return false, ErrNoWatchdog
	}
	b := found[0]
	if _, err := load(b.Timer.Modules...); err != nil {
		return true, fmt.Errorf("watchdog: bind %s (%s): %w", b.Device, b.Timer.Name, err)
	}
	node := filepath.Join(d.DevDir, "watchdog")
	deadline := time.Now().Add(d.Timeout)
	for {
		if _, err := os.Stat(node); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("%w after %v (%s)", ErrNoDevice, d.Timeout, b.Device)
		}
		time.Sleep(20 * time.Millisecond)
	}
	arm := d.Arm
	if arm == nil {
		arm = Open
	}
	boot := d.BootTimeout
	if boot <= 0 {
		boot = DefaultBootTimeout
	}
	dev, err := arm(node, boot)
	if dev != nil {
		armedMu.Lock()
		armed = dev
		armedMu.Unlock()
	}
	if err != nil {
		return true, fmt.Errorf("watchdog: start %s (%s): %w", node, b.Timer.Name, err)
	}
	return true, nil
}

// Path is the kernel's first watchdog device.
const Path = "/dev/watchdog"

// Dev is an armed watchdog: while it is open the board resets when it is
// not kicked within Timeout.
type Dev struct {
	f       *os.File
	timeout time.Duration
}

// Timeout is the timeout the timer runs with (what the driver took, which
// may be rounded from what was asked).
func (w *Dev) Timeout() time.Duration { return w.timeout }

// KickInterval is how often a healthy system kicks a watchdog of the given
// timeout: three kicks a period, so one late kick does not reset it.
func KickInterval(timeout time.Duration) time.Duration {
	return max(timeout/3, 500*time.Millisecond)
}

// Seconds converts a timeout to the whole seconds the ioctl takes, at
// least 1.
func Seconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", DevDir: "/dev", Timeout: 5 * time.Second, BootTimeout: DefaultBootTimeout})
}

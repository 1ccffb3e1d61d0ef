// Package input is the "input" driver: it binds the board's virtio input
// devices (QEMU virtio-keyboard-pci, virtio-tablet-pci) by PCI or virtio
// ID, loads virtio_input and evdev, and waits for their /dev/input/event*
// nodes; the PC's PS/2 keyboard (built into the kernel) shows up there too
// once evdev is loaded. Open reads key and pointer events from every
// evdev node in pure Go. Importing the package registers the driver with
// periph's driverreg.
package input

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oemkit/messenger/drivers/inittime"
	"periph.io/x/conn/v3/driver/driverreg"

	"github.com/oemkit/messenger/drivers/sysfs"
	"github.com/oemkit/messenger/drivers/virtio"
)

// Modules are what evdev input needs; virtio_input binds virtio devices.
var Modules = []string{"evdev"}

const virtioIDInput = 18

// Find lists virtio input devices under the sysfs root ("/sys").
func Find(sysRoot string) ([]sysfs.Device, error) {
	return virtio.FindDevices(sysRoot, []uint32{0x1052}, virtioIDInput)
}

// ErrNoNode is returned when the modules load but no event node appears.
var ErrNoNode = errors.New("input: evdev is loaded but no /dev/input/event* node appeared")

// Driver is the driverreg driver.
type Driver struct {
	SysRoot string // "/sys"
	DevDir  string // "/dev"
	// Timeout bounds the wait for the event nodes.
	Timeout time.Duration
	// Load loads modules with their closure; nil uses kmod.
	Load func(names ...string) ([]string, error)
}

// String returns "input".
func (d *Driver) String() string { return "input" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init loads evdev (and virtio_input when the board has virtio input
// devices) and waits until there are as many event nodes as devices.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	load := d.Load
	if load == nil {
		load = loadModules
	}
	devs, err := virtio.FindAfterMMIO(d.SysRoot, Find, load)
	if err != nil {
		return true, fmt.Errorf("input: %w", err)
	}
	mods := Modules
	if len(devs) > 0 {
		mods = append([]string{"virtio_input"}, mods...)
		if devs[0].Bus == "pci" {
			mods = append([]string{"virtio_pci"}, mods...)
		}
	}
	if _, err := load(mods...); err != nil {
		return true, fmt.Errorf("input: load %v: %w", mods, err)
	}
	want := max(1, len(devs))
	deadline := time.Now().Add(d.Timeout)
	for {
		m, _ := filepath.Glob(filepath.Join(d.DevDir, "input", "event*"))
		if len(m) >= want {
			return true, nil
		}
		if time.Now().After(deadline) {
			if len(m) > 0 {
				return true, nil
			}
			return true, fmt.Errorf("%w after %v", ErrNoNode, d.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", DevDir: "/dev", Timeout: 5 * time.Second})
}

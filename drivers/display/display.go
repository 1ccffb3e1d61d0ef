// Package display is the "display" driver: it binds the board's display
// controller by PCI or virtio ID (QEMU's std VGA and bochs-display through
// the kernel's bochs DRM driver, virtio-gpu through virtio-gpu), loads its
// kernel modules and waits for the framebuffer the kernel's DRM fbdev
// emulation creates (/dev/fb0). Open maps that framebuffer so a program
// (the Messenger window) can draw on it without X or Wayland. Importing
// the package registers the driver with periph's driverreg.
package display

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oemkit/messenger/drivers/inittime"
	"periph.io/x/conn/v3/driver/driverreg"

	"github.com/oemkit/messenger/drivers/sysfs"
	"github.com/oemkit/messenger/drivers/virtio"
)

// Controller is a display controller the driver knows, by ID.
type Controller struct {
	Bus            string // "pci" or "virtio"
	Vendor, Device uint32 // PCI IDs; for virtio Device is the device type
	Name           string
	Modules        []string
}

// Controllers are the display controllers the driver binds.
var Controllers = []Controller{
	{"pci", 0x1234, 0x1111, "QEMU std VGA / bochs-display", []string{"bochs"}},
	{"pci", 0x1af4, 0x1050, "virtio-gpu-pci", []string{"virtio_pci", "virtio_gpu"}},
	{"virtio", 0, 16, "virtio-gpu (virtio-mmio)", []string{"virtio_gpu"}},
}

// Bound is a display controller found on the board.
type Bound struct {
	Device     sysfs.Device
	Controller Controller
}

// Find lists the display controllers under the sysfs root ("/sys").
func Find(sysRoot string) ([]Bound, error) {
	var out []Bound
	for _, bus := range []string{"pci", "virtio"} {
		devs, err := sysfs.Devices(sysRoot, bus)
		if err != nil {
			return nil, err
		}
		for _, d := range devs {
			for _, c := range Controllers {
				if c.Bus == bus && c.Device == d.Device && (bus == "virtio" || c.Vendor == d.Vendor) {
					out = append(out, Bound{Device: d, Controller: c})
				}
			}
		}
	}
	return out, nil
}

// ErrNoDisplay is returned (as a skip) on a board without a display.
var ErrNoDisplay = errors.New("display: no display controller on this board (the Messenger window needs one: add -device bochs-display to the BSP's QEMU line)")

// ErrNoFramebuffer is returned when the controller is bound but no
// framebuffer node appeared.
var ErrNoFramebuffer = errors.New("display: the controller is bound but no /dev/fb0 appeared (the kernel needs CONFIG_DRM_FBDEV_EMULATION)")

// Driver is the driverreg driver.
type Driver struct {
	SysRoot string // "/sys"
	DevDir  string // "/dev"
	// Timeout bounds the wait for the framebuffer node.
	Timeout time.Duration
	// Load loads modules with their closure; nil uses kmod.
	Load func(names ...string) ([]string, error)
}

// String returns "display".
func (d *Driver) String() string { return "display" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init binds the first display controller and waits for its framebuffer.
// It is skipped on a board without one.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	load := d.Load
	if load == nil {
		load = loadModules
	}
	found, err := virtio.FindAfterMMIO(d.SysRoot, Find, load)
	if err != nil {
		return true, fmt.Errorf("display: %w", err)
	}
	if len(found) == 0 {
		return false, ErrNoDisplay
	}
	b := found[0]
	if _, err := load(b.Controller.Modules...); err != nil {
		return true, fmt.Errorf("display: bind %s (%s): %w", b.Device, b.Controller.Name, err)
	}
	fb := filepath.Join(d.DevDir, "fb0")
	deadline := time.Now().Add(d.Timeout)
	for {
		if _, err := os.Stat(fb); err == nil {
			return true, nil
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("%w after %v (%s)", ErrNoFramebuffer, d.Timeout, b.Device)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", DevDir: "/dev", Timeout: 5 * time.Second})
}

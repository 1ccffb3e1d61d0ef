// Package storage is the "storage" driver: it binds the board's state disk
// (a virtio block device: QEMU -device virtio-blk-pci) by PCI or virtio ID
// and loads its kernel modules and the ext4 file system, so the device init
// can mount the persistent state partition (SYSGEN_STATEFS). Importing it
// registers the driver with periph's driverreg.
package storage

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/oemkit/messenger/drivers/inittime"
	"github.com/oemkit/messenger/drivers/sysfs"
	"github.com/oemkit/messenger/drivers/virtio"
	"periph.io/x/conn/v3/driver/driverreg"
)

// Modules are what a virtio state disk with an ext4 partition needs; ext4
// asks for crc32c at mount time and the device has no modprobe to load it.
var Modules = []string{"virtio_blk", "crc32c_generic", "ext4"}

const virtioIDBlock = 2

// Find lists virtio block devices under the sysfs root ("/sys").
func Find(sysRoot string) ([]sysfs.Device, error) {
	return virtio.FindDevices(sysRoot, []uint32{0x1001, 0x1042}, virtioIDBlock)
}

// Driver is the driverreg driver.
type Driver struct {
	SysRoot string
	// DevDir is where block device nodes appear ("/dev").
	DevDir string
	// Timeout bounds the wait for the first disk's node.
	Timeout time.Duration
	// Load loads modules with their closure; nil uses kmod.
	Load func(names ...string) ([]string, error)
}

// String returns "storage".
func (d *Driver) String() string { return "storage" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// ErrNoNode is returned when the disk is bound but no block device node
// appeared.
var ErrNoNode = errors.New("storage: the disk is bound but no /dev/vd* node appeared")

// Init loads the block and file system modules and waits for the disk's
// node. It is skipped when the board has no virtio disk.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	load := d.Load
	if load == nil {
		load = loadModules
	}
	// On arm64 virt the virtio devices appear once virtio_mmio is bound.
	devs, err := virtio.FindAfterMMIO(d.SysRoot, Find, load)
	if err != nil {
		return true, fmt.Errorf("storage: %w", err)
	}
	if len(devs) == 0 {
		return false, errors.New("storage: no virtio block device on this board (state stays in RAM)")
	}
	mods := Modules
	if devs[0].Bus == "pci" {
		mods = append([]string{"virtio_pci"}, Modules...)
	}
	// One module (with its closure) at a time, so the boot breakdown shows
	// where the time goes.
	for _, m := range mods {
		step := time.Now()
		if _, err := load(m); err != nil {
			return true, fmt.Errorf("storage: bind %s: %w", devs[0], err)
		}
		inittime.Since("storage/"+m, step)
	}
	step := time.Now()
	defer inittime.Since("storage/node", step)
	if !waitNode(d.DevDir, "vd[a-z]", d.Timeout) {
		return true, fmt.Errorf("%w after %v", ErrNoNode, d.Timeout)
	}
	return true, nil
}

// hasNode reports whether dir has an entry matching pattern.
func hasNode(dir, pattern string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	return len(m) > 0
}

// pollNode checks for the node every 20 ms until timeout passes; it is the
// fallback where inotify is not available.
func pollNode(dir, pattern string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !hasNode(dir, pattern) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", DevDir: "/dev", Timeout: 5 * time.Second})
}

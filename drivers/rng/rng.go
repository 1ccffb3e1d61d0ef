// Package rng is the "rng" driver: it binds a virtio-rng device (QEMU
// -device virtio-rng-pci, or virtio-rng-device on virtio-mmio) so the kernel
// random pool is seeded early.
//
// Without a seed, a freshly booted guest under TCG can wait minutes for the
// kernel's CRNG: getrandom(2) blocks, and with it the DHCP client (its
// transaction ID) and every TLS handshake. The network driver runs after this
// one. Importing it registers the driver with periph's driverreg.
package rng

import (
	"errors"
	"fmt"
	"time"

	"github.com/oemkit/messenger/drivers/inittime"
	"github.com/oemkit/messenger/drivers/sysfs"
	"github.com/oemkit/messenger/drivers/virtio"
	"periph.io/x/conn/v3/driver/driverreg"
)

// Device is a hardware RNG found in sysfs, with the modules it needs.
type Device struct {
	sysfs.Device
	Modules []string
}

const virtioIDEntropy = 4

// Find lists virtio-rng devices under the sysfs root ("/sys").
func Find(sysRoot string) ([]Device, error) {
	devs, err := virtio.FindDevices(sysRoot, []uint32{0x1005, 0x1044}, virtioIDEntropy)
	var out []Device
	for _, d := range devs {
		mods := []string{"virtio_rng"}
		if d.Bus == "pci" {
			mods = []string{"virtio_pci", "virtio_rng"}
		}
		out = append(out, Device{Device: d, Modules: mods})
	}
	return out, err
}

// ErrNotSeeded is the reason the driver is skipped when there is no RNG
// device and the kernel random pool is not ready.
var ErrNotSeeded = errors.New("rng: no virtio-rng device and the kernel random pool is not initialised yet; DHCP and TLS will wait for it: give QEMU -device virtio-rng-pci (x86) or -device virtio-rng-device (arm64 virt), or -cpu max")

// ErrPoolReady is the reason the driver is skipped when the kernel random
// pool is initialised before any RNG device is bound.
var ErrPoolReady = errors.New("rng: the kernel random pool is already initialised (RDRAND or a boot seed)")

// Driver is the driverreg driver.
type Driver struct {
	SysRoot string
	// Timeout bounds the wait for the random pool after loading.
	Timeout time.Duration
	// Load loads modules with their closure; nil uses kmod.
	Load func(names ...string) ([]string, error)
	// Ready reports whether the kernel random pool is initialised; nil
	// asks the kernel (getrandom with GRND_NONBLOCK).
	Ready func() bool
}

// String returns "rng".
func (d *Driver) String() string { return "rng" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil.
func (d *Driver) After() []string { return nil }

// Init loads the virtio-rng modules and waits for the random pool. It is
// skipped when there is no device (with ErrNotSeeded as the reason if the
// pool is not ready either) and when the pool is ready already
// (ErrPoolReady).
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	ready := d.Ready
	if ready == nil {
		ready = poolReady
	}
	load := d.Load
	if load == nil {
		load = loadModules
	}
	// On arm64 virt the virtio devices appear once virtio_mmio is bound.
	devs, err := virtio.FindAfterMMIO(d.SysRoot, Find, load)
	if err != nil {
		return true, fmt.Errorf("rng: %w", err)
	}
	if len(devs) == 0 {
		if ready() {
			return false, errors.New("rng: no virtio-rng device (the kernel random pool is ready anyway)")
		}
		return false, ErrNotSeeded
	}
	// A pool the kernel already seeded (RDRAND trusted at boot, a seed
	// from the boot loader) needs nothing from the device: loading its
	// modules would only take CPU time from the drivers the device's
	// ready waits for (one vCPU under TCG).
	if ready() {
		return false, fmt.Errorf("%w; %s left unbound", ErrPoolReady, devs[0].Device)
	}
	for _, dev := range devs {
		if _, err := load(dev.Modules...); err != nil {
			return true, fmt.Errorf("rng: bind %s: %w", dev.Device, err)
		}
	}
	if !WaitReady(ready, d.Timeout) {
		return true, fmt.Errorf("rng: virtio-rng bound but the kernel random pool is still not ready after %v", d.Timeout)
	}
	return true, nil
}

// WaitReady polls ready until it is true or timeout passes.
func WaitReady(ready func() bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !ready() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", Timeout: 10 * time.Second})
}

package network

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"periph.io/x/conn/v3/driver/driverreg"

	"github.com/oemkit/messenger/drivers/virtio"
	"github.com/oemkit/messenger/feature/settings"

	_ "github.com/oemkit/messenger/drivers/rng" // registers "rng", which seeds the pool DHCP waits for
)

// Modules loads kernel modules and matches modaliases; kmod.Index
// implements it on the device.
type Modules interface {
	Load(params map[string]string, names ...string) ([]string, error)
	Match(modalias string) []string
}

// Driver is the driverreg driver. Its fields let a test or a board point it
// elsewhere; the registered one uses the real paths.
type Driver struct {
	SysRoot, ProcRoot string // "/sys", "/proc"
	ResolvConf        string // "/etc/resolv.conf"
	// LinkTimeout bounds the wait for the interface to appear after the
	// modules load, and for the link to come up.
	LinkTimeout time.Duration
	// DHCPTimeout bounds the whole DHCP exchange.
	DHCPTimeout time.Duration
	// Modules loads modules; nil opens the running kernel's module index.
	Modules func() (Modules, error)
	// Settings gives the device settings (the TCP keepalive values); nil
	// uses settings.Device. Without a settings file the kernel's TCP values
	// stay.
	Settings func() (*settings.File, error)
}

// sysctls returns the TCP sysctls from the device settings.
func (d *Driver) sysctls() ([]Sysctl, error) {
	load := d.Settings
	if load == nil {
		load = settings.Device
	}
	f, err := load()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	return Sysctls(f)
}

// String returns "network".
func (d *Driver) String() string { return "network" }

// Prerequisites returns nil.
func (d *Driver) Prerequisites() []string { return nil }

// After returns nil: the driver binds alongside the others. The DHCP client
// needs the kernel random pool, which the rng driver seeds from virtio-rng;
// Init waits for the pool itself just before DHCP, so the NIC's modules
// load and the link comes up while the rng, audio and storage drivers bind.
func (d *Driver) After() []string { return nil }

// modulesFor returns the modules to load for a NIC.
func modulesFor(n NIC, m Modules) ([]string, error) {
	if n.Modules != nil {
		return n.Modules, nil
	}
	if names := m.Match(n.Modalias); len(names) > 0 {
		return names, nil
	}
	return nil, fmt.Errorf("network: %s: no kernel module claims modalias %q; add the NIC's driver module to the BSP's module list", n.Device, n.Modalias)
}

// find lists the NICs; on virtio-mmio machines (arm64 virt) it loads
// virtio_mmio first when no NIC is visible yet, and returns what it loaded.
func (d *Driver) find(open func() (Modules, error)) ([]NIC, []string, error) {
	nics, err := Find(d.SysRoot)
	if err == nil && len(nics) == 0 {
		nics, err = waitUSB(d.SysRoot, d.LinkTimeout) // usb.go
	}
	if err != nil || len(nics) > 0 || !virtio.HasMMIO(d.SysRoot) {
		return nics, nil, err
	}
	mods, err := open()
	if err != nil {
		return nil, nil, err
	}
	did, err := mods.Load(nil, "virtio_mmio")
	if err != nil {
		return nil, nil, fmt.Errorf("network: load the virtio-mmio transport: %w", err)
	}
	nics, err = Find(d.SysRoot)
	return nics, did, err
}

func init() {
	driverreg.MustRegister(&Driver{SysRoot: "/sys", ProcRoot: "/proc", ResolvConf: "/etc/resolv.conf",
		LinkTimeout: 10 * time.Second, DHCPTimeout: 30 * time.Second})
}

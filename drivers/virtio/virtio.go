// Package virtio finds the virtio transports on a machine, so drivers can
// load them before looking for virtio devices.
//
// Virtio devices (net, rng, sound) sit on the virtio bus only once their
// transport driver is bound: virtio_pci for QEMU's virtio-*-pci devices
// (x86), virtio_mmio for the virtio-mmio slots of arm64 "virt" (device tree
// compatible "virtio,mmio", or ACPI LNRO0005). Debian builds both as modules.
package virtio

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oemkit/messenger/drivers/sysfs"
)

// VendorPCI is the PCI vendor ID of virtio devices (Red Hat, Qumranet).
const VendorPCI = 0x1af4

// IsPCI reports whether a PCI device is a virtio device: vendor 0x1af4,
// device 0x1000-0x107f.
func IsPCI(d sysfs.Device) bool {
	return d.Bus == "pci" && d.Vendor == VendorPCI && d.Device >= 0x1000 && d.Device <= 0x107f
}

// IsMMIO reports whether a platform device is a virtio-mmio slot, by its
// modalias.
func IsMMIO(d sysfs.Device) bool {
	return strings.Contains(d.Modalias, "Cvirtio,mmio") || strings.HasPrefix(d.Modalias, "acpi:LNRO0005:")
}

// Transports returns the transport modules the machine under sysRoot needs:
// "virtio_pci" when a virtio PCI device exists, "virtio_mmio" when a
// virtio-mmio slot exists.
func Transports(sysRoot string) ([]string, error) {
	var out []string
	pci, err := sysfs.Devices(sysRoot, "pci")
	if err != nil {
		return nil, err
	}
	for _, d := range pci {
		if IsPCI(d) {
			out = append(out, "virtio_pci")
			break
		}
	}
	plat, err := sysfs.Devices(sysRoot, "platform")
	if err != nil {
		return nil, err
	}
	for _, d := range plat {
		if IsMMIO(d) {
			out = append(out, "virtio_mmio")
			break
		}
	}
	return out, nil
}

// HasMMIO reports whether the machine under sysRoot has virtio-mmio slots
// (whose devices appear on the virtio bus only after virtio_mmio loads).
func HasMMIO(sysRoot string) bool {
	t, _ := Transports(sysRoot)
	for _, m := range t {
		if m == "virtio_mmio" {
			return true
		}
	}
	return false
}

// FindAfterMMIO runs find; when it finds nothing on a board with virtio-mmio
// transports (arm64 virt), whose virtio devices only appear once the
// transport is bound, it loads virtio_mmio with load and runs find again.
func FindAfterMMIO[T any](sysRoot string, find func(sysRoot string) ([]T, error), load func(names ...string) ([]string, error)) ([]T, error) {
	found, err := find(sysRoot)
	if err != nil || len(found) > 0 || !HasMMIO(sysRoot) {
		return found, err
	}
	if _, err := load("virtio_mmio"); err != nil {
		return nil, fmt.Errorf("load the virtio-mmio transport: %w", err)
	}
	return find(sysRoot)
}

// FindDevices lists the virtio devices of one kind under sysRoot: the PCI
// devices with vendor VendorPCI and one of pciDevices (transitional and
// modern IDs) or, when there are none, the virtio-bus devices of type
// virtioID (virtio-mmio boards, or PCI ones once virtio_pci is bound).
func FindDevices(sysRoot string, pciDevices []uint32, virtioID uint32) ([]sysfs.Device, error) {
	var out []sysfs.Device
	pci, err := sysfs.Devices(sysRoot, "pci")
	if err != nil {
		return nil, err
	}
	for _, d := range pci {
		if d.Vendor == VendorPCI && slices.Contains(pciDevices, d.Device) {
			out = append(out, d)
		}
	}
	if len(out) > 0 {
		return out, nil // their virtio devices appear once virtio_pci is loaded
	}
	vio, err := sysfs.Devices(sysRoot, "virtio")
	if err != nil {
		return nil, err
	}
	for _, d := range vio {
		if d.Device == virtioID {
			out = append(out, d)
		}
	}
	return out, nil
}

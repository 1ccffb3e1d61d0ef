// Package sysfs lists the devices on the PCI and virtio buses from a sysfs
// tree and parses their modalias strings.
//
// The sysfs root is a parameter ("/sys" on a device), so tests run against a
// fake tree in a temporary folder.
package sysfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Device is one device on a bus.
type Device struct {
	// Bus is "pci" or "virtio".
	Bus string
	// Name is the sysfs name, e.g. "0000:00:03.0" or "virtio0".
	Name string
	// Vendor is the PCI vendor ID or the virtio vendor ID.
	Vendor uint32
	// Device is the PCI device ID or the virtio device type (1 = net,
	// 25 = sound).
	Device uint32
	// Class is the 24-bit PCI class code (0x020000 Ethernet, 0x0403xx HDA);
	// 0 on virtio.
	Class uint32
	// Modalias is the device's modalias string, matched against modules'
	// alias= patterns.
	Modalias string
	// Driver is the name of the bound kernel driver, "" if none.
	Driver string
}

// String returns "bus name vendor:device".
func (d Device) String() string {
	return fmt.Sprintf("%s %s %04x:%04x", d.Bus, d.Name, d.Vendor, d.Device)
}

// Devices lists the devices on bus ("pci" or "virtio") under the sysfs root,
// sorted by name. A missing bus folder gives no devices and no error.
func Devices(root, bus string) ([]Device, error) {
	dir := filepath.Join(root, "bus", bus, "devices")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sysfs: %w", err)
	}
	var out []Device
	for _, e := range ents {
		d, err := readDevice(filepath.Join(dir, e.Name()), bus, e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func readDevice(p, bus, name string) (Device, error) {
	d := Device{Bus: bus, Name: name}
	d.Modalias = readString(filepath.Join(p, "modalias"))
	if link, err := os.Readlink(filepath.Join(p, "driver")); err == nil {
		d.Driver = filepath.Base(link)
	}
	switch bus {
	case "pci":
		if m, err := ParsePCIModalias(d.Modalias); err == nil {
			d.Vendor, d.Device, d.Class = m.Vendor, m.Device, m.Class
		}
	case "virtio":
		if m, err := ParseVirtioModalias(d.Modalias); err == nil {
			d.Vendor, d.Device = m.Vendor, m.Device
		}
	}
	// The separate attribute files win over the modalias when present.
	for _, f := range []struct {
		name string
		v    *uint32
	}{{"vendor", &d.Vendor}, {"device", &d.Device}, {"class", &d.Class}} {
		if s := readString(filepath.Join(p, f.name)); s != "" {
			v, err := strconv.ParseUint(s, 0, 32)
			if err != nil {
				return Device{}, fmt.Errorf("sysfs: %s/%s: %q is not a number", p, f.name, s)
			}
			*f.v = uint32(v)
		}
	}
	return d, nil
}

func readString(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// PCIAlias is a parsed PCI modalias.
type PCIAlias struct {
	Vendor, Device, SubVendor, SubDevice uint32
	// Class is base class, subclass and programming interface: 0xBBSSII.
	Class uint32
}

// ParsePCIModalias parses "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00".
func ParsePCIModalias(s string) (PCIAlias, error) {
	var a PCIAlias
	rest, ok := strings.CutPrefix(s, "pci:")
	if !ok {
		return a, fmt.Errorf("sysfs: modalias %q: want pci: prefix", s)
	}
	var bc, sc, pi uint32
	for _, f := range []struct {
		key    string
		digits int
		v      *uint32
	}{{"v", 8, &a.Vendor}, {"d", 8, &a.Device}, {"sv", 8, &a.SubVendor}, {"sd", 8, &a.SubDevice}, {"bc", 2, &bc}, {"sc", 2, &sc}, {"i", 2, &pi}} {
		var err error
		if *f.v, rest, err = hexField(rest, f.key, f.digits); err != nil {
			return PCIAlias{}, fmt.Errorf("sysfs: modalias %q: %w", s, err)
		}
	}
	a.Class = bc<<16 | sc<<8 | pi
	return a, nil
}

// VirtioAlias is a parsed virtio modalias.
type VirtioAlias struct {
	Device, Vendor uint32
}

// ParseVirtioModalias parses "virtio:d00000001v00001AF4".
func ParseVirtioModalias(s string) (VirtioAlias, error) {
	var a VirtioAlias
	rest, ok := strings.CutPrefix(s, "virtio:")
	if !ok {
		return a, fmt.Errorf("sysfs: modalias %q: want virtio: prefix", s)
	}
	var err error
	if a.Device, rest, err = hexField(rest, "d", 8); err != nil {
		return VirtioAlias{}, fmt.Errorf("sysfs: modalias %q: %w", s, err)
	}
	if a.Vendor, _, err = hexField(rest, "v", 8); err != nil {
		return VirtioAlias{}, fmt.Errorf("sysfs: modalias %q: %w", s, err)
	}
	return a, nil
}

func hexField(s, key string, digits int) (uint32, string, error) {
	rest, ok := strings.CutPrefix(s, key)
	if !ok || len(rest) < digits {
		return 0, "", fmt.Errorf("want %s followed by %d hex digits", key, digits)
	}
	v, err := strconv.ParseUint(rest[:digits], 16, 32)
	if err != nil {
		return 0, "", fmt.Errorf("field %s: %q is not hex", key, rest[:digits])
	}
	return uint32(v), rest[digits:], nil
}

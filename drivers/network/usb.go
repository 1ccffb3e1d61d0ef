package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oemkit/messenger/drivers/sysfs"
)

// knownUSB maps USB idVendor<<16|idProduct to the modules of USB NICs.
var knownUSB = map[uint32][]string{
	// SMSC LAN9512/LAN9514 Ethernet (Raspberry Pi 1 B, 2 B, 3 B). Its
	// internal PHY's driver first: the device has no modprobe for phylib's
	// module request, which would leave the Generic PHY driver on it.
	0x0424_ec00: {"smsc", "smsc95xx"},
	0x0424_7800: {"lan78xx"},   // Microchip LAN7800 (Raspberry Pi 3 B+)
	0x0525_a4a2: {"cdc_ether"}, // Linux USB gadget CDC Ethernet, QEMU's usb-net
}

// usbClassNIC maps a USB interface's class/subclass/protocol to the class
// driver of a NIC that follows the USB communications class standards.
var usbClassNIC = []struct {
	class, sub, proto int // -1 matches any
	module            string
}{
	{0x02, 0x06, -1, "cdc_ether"},    // CDC Ethernet Control Model (ECM)
	{0x02, 0x0c, -1, "cdc_eem"},      // CDC Ethernet Emulation Model
	{0x02, 0x0d, -1, "cdc_ncm"},      // CDC Network Control Model
	{0x02, 0x02, 0xff, "rndis_host"}, // RNDIS (Microsoft's CDC ACM variant)
	{0xe0, 0x01, 0x03, "rndis_host"}, // RNDIS as a wireless controller
	{0xef, 0x04, 0x01, "rndis_host"}, // RNDIS, miscellaneous class
}

// USBAlias is a parsed USB interface modalias.
type USBAlias struct {
	Vendor, Product, BCD           uint32
	DevClass, DevSub, DevProto     uint32
	IfClass, IfSub, IfProto, IfNum uint32
}

// ParseUSBModalias parses a USB interface modalias,
// "usb:v0424pEC00d0200dcFFdsc00dp01icFFisc00ip00in00".
func ParseUSBModalias(s string) (USBAlias, error) {
	var a USBAlias
	if len(s) > 128 {
		return a, fmt.Errorf("network: USB modalias of %d bytes: too long", len(s))
	}
	rest, ok := strings.CutPrefix(s, "usb:")
	if !ok {
		return a, fmt.Errorf("network: modalias %q: want usb: prefix", s)
	}
	for _, f := range []struct {
		key    string
		digits int
		v      *uint32
	}{{"v", 4, &a.Vendor}, {"p", 4, &a.Product}, {"d", 4, &a.BCD}, {"dc", 2, &a.DevClass}, {"dsc", 2, &a.DevSub},
		{"dp", 2, &a.DevProto}, {"ic", 2, &a.IfClass}, {"isc", 2, &a.IfSub}, {"ip", 2, &a.IfProto}, {"in", 2, &a.IfNum}} {
		r, ok := strings.CutPrefix(rest, f.key)
		if !ok || len(r) < f.digits {
			return USBAlias{}, fmt.Errorf("network: modalias %q: want %s followed by %d hex digits", s, f.key, f.digits)
		}
		v, err := strconv.ParseUint(r[:f.digits], 16, 32)
		if err != nil {
			return USBAlias{}, fmt.Errorf("network: modalias %q: field %s: %q is not hex", s, f.key, r[:f.digits])
		}
		*f.v, rest = uint32(v), r[f.digits:]
	}
	return a, nil
}

// usbClassModule returns the class driver for an interface, or "".
func usbClassModule(a USBAlias) string {
	for _, c := range usbClassNIC {
		if int(a.IfClass) == c.class && int(a.IfSub) == c.sub && (c.proto < 0 || int(a.IfProto) == c.proto) {
			return c.module
		}
	}
	return ""
}

// FindUSB lists the NICs on the USB bus under the sysfs root: devices with
// a known vendor:product, and devices with an interface of a communications
// class NIC (CDC ECM/EEM/NCM, RNDIS). Each USB device is listed once, named
// by its sysfs name ("1-1.1"), with its first NIC interface's modalias.
func FindUSB(sysRoot string) ([]NIC, error) {
	dir := filepath.Join(sysRoot, "bus", "usb", "devices")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	byDev := map[string]*NIC{}
	for _, e := range ents {
		name := e.Name()
		devName, _, isIf := strings.Cut(name, ":")
		if !isIf {
			continue // devices are seen through their interfaces
		}
		alias := readTrim(filepath.Join(dir, name, "modalias"))
		a, err := ParseUSBModalias(alias)
		if err != nil {
			continue
		}
		if _, seen := byDev[devName]; seen {
			continue
		}
		mods, ok := knownUSB[a.Vendor<<16|a.Product]
		if !ok {
			m := usbClassModule(a)
			if m == "" {
				continue
			}
			mods = []string{m}
		}
		d := sysfs.Device{Bus: "usb", Name: devName, Vendor: a.Vendor, Device: a.Product, Class: a.IfClass<<16 | a.IfSub<<8 | a.IfProto, Modalias: alias}
		if link, err := os.Readlink(filepath.Join(dir, name, "driver")); err == nil {
			d.Driver = filepath.Base(link)
		}
		byDev[devName] = &NIC{Device: d, Modules: mods}
	}
	out := make([]NIC, 0, len(byDev))
	for _, n := range byDev {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// usbHosts reports whether the sysfs tree has a USB host controller (a
// root hub, "usbN"), so devices may still be enumerating.
func usbHosts(sysRoot string) bool {
	m, _ := filepath.Glob(filepath.Join(sysRoot, "bus", "usb", "devices", "usb[0-9]*"))
	return len(m) > 0
}

// waitUSB waits up to timeout for a NIC to appear on the USB bus when the
// board has a USB host controller (its host controller driver was loaded
// from modules_load=, and the bus enumerates hubs and devices for a few
// seconds after). Without a host controller it returns at once.
func waitUSB(sysRoot string, timeout time.Duration) ([]NIC, error) {
	if !usbHosts(sysRoot) {
		return nil, nil
	}
	deadline := time.Now().Add(timeout)
	for {
		nics, err := FindUSB(sysRoot)
		if err != nil || len(nics) > 0 || time.Now().After(deadline) {
			return nics, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func readTrim(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

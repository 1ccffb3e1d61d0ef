// Package network is the "network" driver: it finds the NIC by PCI
// vendor/device or class, or as a virtio-net device (virtio-mmio on arm64
// virt), loads its kernel modules with their dependency closure, brings lo
// and the link up, gets an IPv4 address by DHCP, writes /etc/resolv.conf
// from the lease and sets TCP keepalive sysctls for long-lived connections.
// Importing it registers the driver with periph's driverreg:
//
//	import _ "github.com/oemkit/messenger/drivers/network"
//
// After driverreg.Init, Bound reports the interface, MAC, address, gateway
// and DNS servers.
//
// # Keepalive
//
// Messenger keeps a notification server connection open for hours; a NAT or
// a peer that vanishes leaves it half-open. The driver writes the TCP/IP
// item's (SYSGEN_TCPIP) settings from the device settings file to the kernel:
//
//	net.tcp_keepalive_time   -> net.ipv4.tcp_keepalive_time   (default 60s: idle time before the first probe)
//	net.tcp_keepalive_intvl  -> net.ipv4.tcp_keepalive_intvl  (default 10s: time between probes)
//	net.tcp_keepalive_probes -> net.ipv4.tcp_keepalive_probes (default 6: unanswered probes before reset)
//	net.tcp_retries2         -> net.ipv4.tcp_retries2         (default 8: retransmissions of unacked data)
//
// With the defaults an idle half-open connection with SO_KEEPALIVE is
// detected within 60 + 6*10 = 120 s, and one with data in flight within
// about 100 s (8 retransmissions with exponential backoff from a 200 ms RTO:
// 0.2 s * (2^9 - 1) = 102 s) instead of the kernel's 924 s. An OEM changes
// them in osdesign.toml [settings]; a key the file lacks leaves the kernel's
// value. The keepalive sysctls only apply to sockets that enable SO_KEEPALIVE
// without setting their own timers; Go's net.Dialer sets per-socket values
// (15 s by default), which win.
package network

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/drivers/sysfs"
	"github.com/oemkit/messenger/feature/settings"
)

// Sysctl is one kernel setting the driver writes: a path relative to
// /proc/sys and its value.
type Sysctl struct{ Key, Value string }

// Settings keys (declared by SYSGEN_TCPIP) the driver writes as sysctls.
const (
	SettingKeepaliveTime   = "net.tcp_keepalive_time"
	SettingKeepaliveIntvl  = "net.tcp_keepalive_intvl"
	SettingKeepaliveProbes = "net.tcp_keepalive_probes"
	SettingRetries2        = "net.tcp_retries2"
)

// Sysctls returns the TCP sysctls for the settings in f: the keepalive
// timers in whole seconds, the counts as they are. A key f lacks is left
// out (the kernel keeps its value); a value of the wrong type or a timer
// that is not whole seconds is an error naming the setting.
func Sysctls(f *settings.File) ([]Sysctl, error) {
	var out []Sysctl
	var errs []error
	secs := func(key, sysctl string, d time.Duration, err error) {
		switch {
		case settings.IsUnset(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("network: %w", err))
		case d < time.Second || d%time.Second != 0 || d > 24*time.Hour:
			errs = append(errs, fmt.Errorf("network: setting %s = %v: the kernel takes whole seconds from 1s to 24h; set it in osdesign.toml [settings]", key, d))
		default:
			out = append(out, Sysctl{sysctl, strconv.FormatInt(int64(d/time.Second), 10)})
		}
	}
	count := func(key, sysctl string, n, max int64, err error) {
		switch {
		case settings.IsUnset(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("network: %w", err))
		case n < 1 || n > max:
			errs = append(errs, fmt.Errorf("network: setting %s = %d: want 1 to %d; set it in osdesign.toml [settings]", key, n, max))
		default:
			out = append(out, Sysctl{sysctl, strconv.FormatInt(n, 10)})
		}
	}
	d, err := f.Duration(SettingKeepaliveTime)
	secs(SettingKeepaliveTime, "net/ipv4/tcp_keepalive_time", d, err)
	d, err = f.Duration(SettingKeepaliveIntvl)
	secs(SettingKeepaliveIntvl, "net/ipv4/tcp_keepalive_intvl", d, err)
	n, err := f.Int(SettingKeepaliveProbes)
	count(SettingKeepaliveProbes, "net/ipv4/tcp_keepalive_probes", n, 127, err)
	n, err = f.Int(SettingRetries2)
	count(SettingRetries2, "net/ipv4/tcp_retries2", n, 255, err)
	return out, errors.Join(errs...)
}

// NIC is a network controller found in sysfs. Note that NIC.Device is the
// embedded sysfs.Device; the PCI device ID is NIC.Device.Device.
type NIC struct {
	sysfs.Device
	// Modules to load for it, in order; nil means "the modules whose
	// aliases match the modalias".
	Modules []string
}

const (
	pciClassEthernet = 0x0200 // class >> 8
	virtioIDNet      = 1
)

// known maps PCI vendor<<16|device to the modules for NICs QEMU emulates.
var known = map[uint32][]string{
	0x1af4_1000: {"virtio_pci", "virtio_net"}, // virtio-net-pci, transitional
	0x1af4_1041: {"virtio_pci", "virtio_net"}, // virtio-net-pci, modern
	0x8086_100e: {"e1000"},                    // QEMU e1000 (82540EM)
	0x8086_10d3: {"e1000e"},                   // QEMU e1000e (82574L)
}

// Find lists the NICs under the sysfs root ("/sys" on a device): PCI devices
// with a known ID or the Ethernet class, and virtio-net devices on the
// virtio bus (virtio-mmio; a virtio-pci NIC shows up there only after
// virtio_pci is loaded, and is then skipped as already listed).
func Find(sysRoot string) ([]NIC, error) {
	var out []NIC
	pci, err := sysfs.Devices(sysRoot, "pci")
	if err != nil {
		return nil, err
	}
	virtioPCI := false
	for _, d := range pci {
		if m, ok := known[d.Vendor<<16|d.Device]; ok {
			out = append(out, NIC{Device: d, Modules: m})
			virtioPCI = virtioPCI || d.Vendor == 0x1af4
		} else if d.Class>>8 == pciClassEthernet {
			out = append(out, NIC{Device: d})
		}
	}
	if virtioPCI {
		return out, nil
	}
	vio, err := sysfs.Devices(sysRoot, "virtio")
	if err != nil {
		return nil, err
	}
	for _, d := range vio {
		if d.Device == virtioIDNet {
			out = append(out, NIC{Device: d, Modules: []string{"virtio_net"}})
		}
	}
	return out, nil
}

// Interfaces returns the names of the network interfaces under sysRoot that
// belong to a device (/sys/class/net/X/device exists), so not lo or virtual
// ones, sorted.
func Interfaces(sysRoot string) []string {
	ents, err := os.ReadDir(filepath.Join(sysRoot, "class", "net"))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(sysRoot, "class", "net", e.Name(), "device")); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// Binding is what the driver bound and configured.
type Binding struct {
	NIC       NIC
	Loaded    []string // modules loaded for it
	Interface string
	MAC       string
	Address   netip.Prefix
	Gateway   netip.Addr
	DNS       []netip.Addr
	Search    []string
}

// String is a one-line summary for the console.
func (b Binding) String() string {
	dns := make([]string, len(b.DNS))
	for i, a := range b.DNS {
		dns[i] = a.String()
	}
	return fmt.Sprintf("network: %s up mac %s addr %s gw %s dns [%s] (%s, modules [%s])",
		b.Interface, b.MAC, b.Address, b.Gateway, strings.Join(dns, " "), b.NIC.Device, strings.Join(b.Loaded, " "))
}

var (
	mu    sync.Mutex
	bound []Binding
)

// Bound returns what the driver bound during driverreg.Init.
func Bound() []Binding {
	mu.Lock()
	defer mu.Unlock()
	return append([]Binding(nil), bound...)
}

func setBound(b []Binding) {
	mu.Lock()
	bound = b
	mu.Unlock()
}

// ErrNoHardware is the reason the driver is skipped.
var ErrNoHardware = errors.New("network: no NIC on the PCI or virtio bus")

// ResolvConf returns resolv.conf contents for the DNS settings of a lease.
func ResolvConf(servers []netip.Addr, search []string, domain string) []byte {
	var b bytes.Buffer
	b.WriteString("# written by the network driver from the DHCP lease\n")
	if domain != "" {
		fmt.Fprintf(&b, "domain %s\n", domain)
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	return b.Bytes()
}

// SetSysctls writes sysctls under procRoot ("/proc" on a device).
func SetSysctls(procRoot string, sysctls []Sysctl) error {
	for _, s := range sysctls {
		p := filepath.Join(procRoot, "sys", filepath.FromSlash(s.Key))
		if err := os.WriteFile(p, []byte(s.Value+"\n"), 0o644); err != nil {
			return fmt.Errorf("network: sysctl %s=%s: %w", strings.ReplaceAll(s.Key, "/", "."), s.Value, err)
		}
	}
	return nil
}

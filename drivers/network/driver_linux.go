package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/oemkit/messenger/drivers/inittime"
	"github.com/oemkit/messenger/drivers/kmod"
	"github.com/oemkit/messenger/drivers/rng"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/vishvananda/netlink"
)

// Init binds the NIC: false with ErrNoHardware when there is none
// (skipped); an error when modules, link or DHCP failed.
func (d *Driver) Init() (bool, error) {
	defer inittime.Since(d.String(), time.Now())
	step := time.Now()
	open := d.Modules
	if open == nil {
		open = func() (Modules, error) { return kmod.Open() }
	}
	nics, mmio, err := d.find(open)
	if err != nil {
		return true, err
	}
	if len(nics) == 0 {
		return false, ErrNoHardware
	}
	mods, err := open()
	if err != nil {
		return true, err
	}
	loaded := mmio
	for _, n := range nics {
		names, err := modulesFor(n, mods)
		if err != nil {
			return true, err
		}
		did, err := mods.Load(nil, names...)
		if err != nil {
			return true, fmt.Errorf("network: bind %s: %w", n.Device, err)
		}
		loaded = append(loaded, did...)
	}
	inittime.Since("network/modules", step)
	step = time.Now()
	if err := linkUp("lo"); err != nil {
		return true, err
	}
	sysctls, err := d.sysctls()
	if err != nil {
		return true, err
	}
	if err := SetSysctls(d.ProcRoot, sysctls); err != nil {
		return true, err
	}
	deadline := time.Now().Add(d.LinkTimeout)
	var ifs []string
	for {
		if ifs = Interfaces(d.SysRoot); len(ifs) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(ifs) == 0 {
		return true, fmt.Errorf("network: modules %v loaded but no network interface appeared within %v; check dmesg for the NIC driver's errors", loaded, d.LinkTimeout)
	}
	var links []netlink.Link
	for _, name := range ifs {
		l, err := netlink.LinkByName(name)
		if err != nil {
			return true, fmt.Errorf("network: %s: %w", name, err)
		}
		links = append(links, l)
	}
	inittime.Since("network/interface", step)
	step = time.Now()
	// The DHCP client takes its transaction ID from getrandom(2), which
	// blocks (uncancellably) until the kernel random pool is ready.
	if !rng.WaitReady(rng.PoolReady, d.DHCPTimeout) {
		return true, fmt.Errorf("network: the kernel random pool is not initialised after %v, so DHCP cannot start: %w", d.DHCPTimeout, rng.ErrNotSeeded)
	}
	inittime.Since("network/random-pool", step)
	step = time.Now()
	defer inittime.Since("network/dhcp", step)
	ctx, cancel := context.WithTimeout(context.Background(), d.DHCPTimeout)
	defer cancel()
	type result struct {
		l   netlink.Link
		ls  *nclient4.Lease
		err error
	}
	results := make(chan result, len(links))
	for _, l := range links {
		go func() {
			up, err := carrierUp(l, d.LinkTimeout)
			if err != nil {
				results <- result{l: l, err: err}
				return
			}
			ls, err := lease(ctx, up)
			results <- result{l: up, ls: ls, err: err}
		}()
	}
	var errs []error
	var bs []Binding
	for range links {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		m := r.ls.ACK
		b, err := configure(r.l, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		go keepLease(r.l, r.ls)
		if err := os.MkdirAll(filepath.Dir(d.ResolvConf), 0o755); err != nil {
			errs = append(errs, fmt.Errorf("network: %w", err))
		} else if err := fsutil.WriteFileAtomic(d.ResolvConf, ResolvConf(b.DNS, b.Search, m.DomainName()), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("network: %w", err))
		}
		b.NIC, b.Loaded = nicFor(nics, r.l.Attrs().Name, d.SysRoot), loaded
		bs = append(bs, b)
	}
	setBound(bs)
	if len(bs) == 0 {
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("network: no interface came up on %v", ifs))
		}
		return true, fmt.Errorf("%w (is a DHCP server on the link? QEMU user networking provides one)", errors.Join(errs...))
	}
	return true, errors.Join(errs...)
}

func linkUp(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("network: %s: %w", name, err)
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("network: set %s up: %w", name, err)
	}
	return nil
}

// configure puts the lease's address and default route on the link.
func configure(l netlink.Link, m *dhcpv4.DHCPv4) (Binding, error) {
	name := l.Attrs().Name
	mask := m.SubnetMask()
	if mask == nil {
		mask = m.YourIPAddr.DefaultMask()
	}
	ipnet := &net.IPNet{IP: m.YourIPAddr.To4(), Mask: mask}
	if err := netlink.AddrReplace(l, &netlink.Addr{IPNet: ipnet}); err != nil {
		return Binding{}, fmt.Errorf("network: %s: add address %s: %w", name, ipnet, err)
	}
	b := Binding{Interface: name, MAC: l.Attrs().HardwareAddr.String()}
	ones, _ := mask.Size()
	if a, ok := netip.AddrFromSlice(m.YourIPAddr.To4()); ok {
		b.Address = netip.PrefixFrom(a, ones)
	}
	if gw := m.Router(); len(gw) > 0 {
		if err := netlink.RouteReplace(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: gw[0]}); err != nil {
			return Binding{}, fmt.Errorf("network: %s: default route via %s: %w", name, gw[0], err)
		}
		b.Gateway, _ = netip.AddrFromSlice(gw[0].To4())
	}
	for _, ip := range m.DNS() {
		if a, ok := netip.AddrFromSlice(ip); ok {
			b.DNS = append(b.DNS, a.Unmap())
		}
	}
	if s := m.DomainSearch(); s != nil {
		b.Search = s.Labels
	}
	return b, nil
}

// nicFor finds the NIC whose sysfs device the interface belongs to.
func nicFor(nics []NIC, ifname, sysRoot string) NIC {
	if len(nics) == 1 {
		return nics[0]
	}
	for _, n := range nics {
		if deviceOwns(sysRoot, n, ifname) {
			return n
		}
	}
	return NIC{}
}

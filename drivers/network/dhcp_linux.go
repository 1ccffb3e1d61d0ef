package network

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// dhcpModifiers are the options the device asks for.
var dhcpModifiers = []dhcpv4.Modifier{
	dhcpv4.WithOption(dhcpv4.OptClassIdentifier("oemkit-messenger")),
	dhcpv4.WithRequestedOptions(dhcpv4.OptionSubnetMask, dhcpv4.OptionRouter, dhcpv4.OptionDomainNameServer,
		dhcpv4.OptionDomainName, dhcpv4.OptionDNSDomainSearchList),
}

// carrierUp sets the link up and returns once it has carrier
// (IFF_LOWER_UP), waiting on netlink link events, not polling. It does not
// wait for the operational state: the kernel's link watcher reports
// "up" up to a second after the carrier (it batches link events), while
// the queue already sends once the carrier is on.
func carrierUp(l netlink.Link, timeout time.Duration) (netlink.Link, error) {
	name := l.Attrs().Name
	updates := make(chan netlink.LinkUpdate, 16)
	done := make(chan struct{})
	defer close(done)
	subErr := netlink.LinkSubscribeWithOptions(updates, done, netlink.LinkSubscribeOptions{})
	if err := netlink.LinkSetUp(l); err != nil {
		return nil, fmt.Errorf("network: set %s up: %w", name, err)
	}
	cur, err := netlink.LinkByIndex(l.Attrs().Index)
	if err != nil {
		return nil, fmt.Errorf("network: %s: %w", name, err)
	}
	if cur.Attrs().RawFlags&unix.IFF_LOWER_UP != 0 {
		return cur, nil
	}
	if subErr != nil {
		return nil, fmt.Errorf("network: %s has no carrier, and link events cannot be read: %w", name, subErr)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case u, ok := <-updates:
			if !ok {
				return nil, fmt.Errorf("network: %s has no carrier and the link event socket closed", name)
			}
			if u.Link != nil && u.Link.Attrs().Index == l.Attrs().Index && u.IfInfomsg.Flags&unix.IFF_LOWER_UP != 0 {
				return u.Link, nil
			}
		case <-timer.C:
			return nil, fmt.Errorf("network: %s has no carrier after %v: check the cable or the virtual NIC's link", name, timeout)
		}
	}
}

// lease gets a lease on the link by DISCOVER/OFFER/REQUEST/ACK. The first
// DISCOVER goes out at once (no random start delay: RFC 2131 4.4.1 asks
// for one only to spread many clients booting at once).
func lease(ctx context.Context, l netlink.Link) (*nclient4.Lease, error) {
	c, err := nclient4.New(l.Attrs().Name, nclient4.WithTimeout(3*time.Second), nclient4.WithRetry(4))
	if err != nil {
		return nil, fmt.Errorf("network: dhcp on %s: %w", l.Attrs().Name, err)
	}
	defer c.Close()
	ls, err := c.Request(ctx, dhcpModifiers...)
	if err != nil {
		return nil, fmt.Errorf("network: dhcp on %s: %w", l.Attrs().Name, err)
	}
	return ls, nil
}

// renewAt returns when to renew a lease (T1, option 58, else half the
// lease time, RFC 2131 4.4.5) and when it expires; zero for an infinite
// lease.
func renewAt(ls *nclient4.Lease) (t1, expiry time.Duration) {
	lt := ls.ACK.IPAddressLeaseTime(0)
	if lt == 0 || lt == time.Duration(0xffffffff)*time.Second {
		return 0, 0
	}
	t1 = ls.ACK.IPAddressRenewalTime(lt / 2)
	if t1 <= 0 || t1 >= lt {
		t1 = lt / 2
	}
	return t1, lt
}

// keepLease renews the lease on the link at T1 for as long as the process
// runs; a failed renewal is retried at half the time left, and once the
// lease has expired the client starts over with a DISCOVER.
func keepLease(l netlink.Link, ls *nclient4.Lease) {
	name := l.Attrs().Name
	for {
		t1, lt := renewAt(ls)
		if t1 == 0 {
			return
		}
		expires := ls.CreationTime.Add(lt)
		time.Sleep(time.Until(ls.CreationTime.Add(t1)))
		for {
			next, err := renewOnce(l, ls)
			if err == nil {
				ls = next
				break
			}
			left := time.Until(expires)
			if left <= 0 {
				log.Printf("network: the lease of %s on %s expired: %v; asking again", ls.ACK.YourIPAddr, name, err)
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				next, err = lease(ctx, l)
				cancel()
				if err == nil {
					if _, err = configure(l, next.ACK); err == nil {
						ls = next
						break
					}
				}
				log.Printf("%v", err)
				time.Sleep(30 * time.Second)
				continue
			}
			time.Sleep(max(left/2, 10*time.Second))
		}
	}
}

// renewOnce sends one renewal REQUEST and applies the ACK.
func renewOnce(l netlink.Link, ls *nclient4.Lease) (*nclient4.Lease, error) {
	c, err := nclient4.New(l.Attrs().Name, nclient4.WithTimeout(3*time.Second), nclient4.WithRetry(3),
		nclient4.WithServerAddr(&net.UDPAddr{IP: ls.ACK.ServerIdentifier(), Port: nclient4.ServerPort}))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	next, err := c.Renew(ctx, ls, dhcpModifiers...)
	if err != nil {
		return nil, err
	}
	if _, err := configure(l, next.ACK); err != nil {
		return nil, err
	}
	return next, nil
}

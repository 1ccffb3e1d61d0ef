package main

import "net"

// GuestHost is how a QEMU guest on user networking reaches the host.
const GuestHost = "10.0.2.2"

// guestListener accepts connections from QEMU guests. QEMU's user
// networking rewrites the guest's 10.0.2.2 to the host's 127.0.0.1, so the
// server would otherwise hand guests switchboard addresses on 127.0.0.1,
// which inside a guest is the guest itself. Connections accepted here
// report their local address as 10.0.2.2:port, so XFR SB and RNG give
// guests an address they can reach, while host clients on -addr keep
// getting 127.0.0.1.
type guestListener struct{ net.Listener }

func (l guestListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return guestConn{c}, nil
}

type guestConn struct{ net.Conn }

func (c guestConn) LocalAddr() net.Addr {
	a, ok := c.Conn.LocalAddr().(*net.TCPAddr)
	if !ok {
		return c.Conn.LocalAddr()
	}
	return &net.TCPAddr{IP: net.ParseIP(GuestHost), Port: a.Port}
}

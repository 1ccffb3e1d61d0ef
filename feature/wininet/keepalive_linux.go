package wininet

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// userTimeoutControl sets TCP_USER_TIMEOUT so that data left unacknowledged
// for t drops the connection.
func userTimeoutControl(t time.Duration) func(network, address string, c syscall.RawConn) error {
	if t <= 0 {
		return nil
	}
	return func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(t.Milliseconds()))
		})
		if err != nil {
			return err
		}
		return serr
	}
}

//go:build !linux

package wininet

import (
	"syscall"
	"time"
)

// userTimeoutControl is a no-op where TCP_USER_TIMEOUT does not exist;
// keepalive alone bounds half-open detection there.
func userTimeoutControl(time.Duration) func(network, address string, c syscall.RawConn) error {
	return nil
}

package wininet_test

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oemkit/messenger/feature/wininet"
)

// TestKeepAliveSocketOptions: every connection the Dialer makes carries the
// keepalive and TCP_USER_TIMEOUT that bound half-open detection.
func TestKeepAliveSocketOptions(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
			c.Read(make([]byte, 1))
		}
	}()
	ka := wininet.KeepAlive{Idle: 7 * time.Second, Interval: 3 * time.Second, Count: 4, UserTimeout: 19 * time.Second}
	d, err := wininet.NewDialer(wininet.Config{KeepAlive: ka})
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]int{
		"SO_KEEPALIVE":     {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
		"TCP_KEEPIDLE":     {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
		"TCP_KEEPINTVL":    {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL},
		"TCP_KEEPCNT":      {unix.IPPROTO_TCP, unix.TCP_KEEPCNT},
		"TCP_USER_TIMEOUT": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
	}
	wantVal := map[string]int{"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 7, "TCP_KEEPINTVL": 3, "TCP_KEEPCNT": 4, "TCP_USER_TIMEOUT": 19000}
	for name, opt := range want {
		var got int
		var gerr error
		rc.Control(func(fd uintptr) { got, gerr = unix.GetsockoptInt(int(fd), opt[0], opt[1]) })
		if gerr != nil || got != wantVal[name] {
			t.Errorf("getsockopt(%s) = %d, %v; want %d", name, got, gerr, wantVal[name])
		}
	}
	if got, want := ka.Bound(), 19*time.Second; got != want {
		t.Errorf("Bound() = %v, want %v", got, want)
	}
}

package wininet_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

// A refused connection names the address once and keeps the error chain
// (ErrConnect, *net.OpError, ECONNREFUSED).
func TestConnectErrorNamesAddressOnce(t *testing.T) {
	d, err := wininet.NewDialer(wininet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr := proxytest.ClosedAddr(t)
	_, err = d.DialContext(context.Background(), "tcp", addr)
	if err == nil {
		t.Fatalf("dial %s: no error", addr)
	}
	if n := strings.Count(err.Error(), addr); n != 1 {
		t.Errorf("error names %s %d times, want once: %v", addr, n, err)
	}
	var op *net.OpError
	if !errors.Is(err, wininet.ErrConnect) || !errors.As(err, &op) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error chain lost: %v", err)
	}
}

package wininet_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

// TestMSNDialer: msmsgs's NS/SB dialer through a real HTTP proxy uses
// CONNECT where allowed and falls back to the gateway where it is not.
func TestMSNDialer(t *testing.T) {
	ns := proxytest.StartLineEcho(t) // stands in for NS and SB: echoes lines
	_, nsPort, _ := net.SplitHostPort(ns)
	gwURL := startGatewayFor(t, ns)
	port, _ := strconv.Atoi(nsPort)
	allowing := proxytest.StartTinyproxy(t, proxytest.TinyOptions{ConnectPorts: []int{port}})
	refusing := proxytest.StartTinyproxy(t, proxytest.TinyOptions{ConnectPorts: []int{443}})
	dante := proxytest.StartDante(t, proxytest.DanteOptions{})
	st, _ := certs.Load(certs.Config{})

	tests := []struct {
		name       string
		proxy      string
		mode       string
		first      string // first command: VER opens NS, USR opens SB
		wantMode   string
		viaGateway bool
	}{
		{"direct", "", "", "VER 1 MSNP8 CVR0", "direct", false},
		{"socks5", "socks5://" + dante.Addr, "", "VER 1 MSNP8 CVR0", "socks", false},
		{"connect allowed", "http://" + allowing.Addr, "", "VER 1 MSNP8 CVR0", "connect", false},
		{"connect refused: gateway NS", "http://" + refusing.Addr, "", "VER 1 MSNP8 CVR0", "gateway", true},
		{"connect refused: gateway SB", "http://" + refusing.Addr, "", "USR 1 dev@lab 1.2", "gateway", true},
		{"gateway forced", "http://" + allowing.Addr, wininet.ModeGateway, "VER 1 MSNP8 CVR0", "gateway", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := wininet.NewMSNDialer(
				wininet.Config{Proxy: tc.proxy, Certs: st, Resolver: &wininet.Resolver{Servers: []string{"127.0.0.1:1"}}},
				wininet.MSNOptions{HTTPProxyMode: tc.mode, GatewayURL: gwURL, PollInterval: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := m.DialContext(ctx, "tcp", ns)
			if err != nil {
				t.Fatalf("DialContext(%s) = %v", ns, err)
			}
			defer c.Close()
			if got := m.Mode(); got != tc.wantMode {
				t.Errorf("Mode() = %q, want %q", got, tc.wantMode)
			}
			if _, isGW := c.(*gateway.Conn); isGW != tc.viaGateway {
				t.Errorf("conn is %T, want gateway %v", c, tc.viaGateway)
			}
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			br := bufio.NewReader(c)
			for i, line := range []string{tc.first, "PNG"} {
				fmt.Fprintf(c, "%s\r\n", line)
				got, err := br.ReadString('\n')
				if err != nil || got != line+"\r\n" {
					t.Fatalf("line %d = %q, %v; want %q", i, got, err, line)
				}
			}
		})
	}
	if _, err := wininet.NewMSNDialer(wininet.Config{}, wininet.MSNOptions{HTTPProxyMode: "tunnel"}); err == nil {
		t.Error("NewMSNDialer(mode tunnel) = nil error")
	}
}

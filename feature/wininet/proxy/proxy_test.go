package proxy_test

import (
	"github.com/oemkit/messenger/internal/testenv"

	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/wininet/proxy"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

const (
	labUser = "lab"
	labPass = "s3cret"
)

// roundTrip sends one line through conn and checks the echo.
func roundTrip(t testing.TB, conn net.Conn, br *bufio.Reader, line string) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := fmt.Fprintf(conn, "%s\r\n", line); err != nil {
		t.Fatalf("write: %v", err)
	}
	got, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if want := line + "\r\n"; got != want {
		t.Fatalf("echo = %q, want %q", got, want)
	}
}

func dialEcho(t *testing.T, proxyURL, echo string) {
	t.Helper()
	d, err := proxy.New(proxyURL)
	if err != nil {
		t.Fatalf("New(%q) = %v", proxyURL, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", echo)
	if err != nil {
		t.Fatalf("DialContext(%s) via %s = %v", echo, d, err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	for i := range 3 {
		roundTrip(t, conn, br, fmt.Sprintf("PNG %d", i))
	}
}

func TestThroughRealProxies(t *testing.T) {
	echo := proxytest.StartLineEcho(t)
	_, echoPort, _ := net.SplitHostPort(echo)
	t.Run("dante-noauth", func(t *testing.T) {
		s := proxytest.StartDante(t, proxytest.DanteOptions{})
		for _, scheme := range []string{"socks5", "socks4", "socks4a"} {
			t.Run(scheme, func(t *testing.T) {
				dialEcho(t, scheme+"://"+s.Addr, echo)
				if scheme != "socks4a" { // dante 1.4 does not resolve SOCKS4a names
					dialEcho(t, scheme+"://"+s.Addr, "localhost:"+echoPort)
				}
			})
		}
	})
	t.Run("dante-auth", func(t *testing.T) {
		s := proxytest.StartDante(t, proxytest.DanteOptions{User: labUser, Password: labPass})
		dialEcho(t, fmt.Sprintf("socks5://%s:%s@%s", labUser, labPass, s.Addr), echo)
	})
	t.Run("tinyproxy", func(t *testing.T) {
		s := proxytest.StartTinyproxy(t, proxytest.TinyOptions{})
		dialEcho(t, "http://"+s.Addr, echo)
	})
	t.Run("tinyproxy-auth", func(t *testing.T) {
		s := proxytest.StartTinyproxy(t, proxytest.TinyOptions{User: labUser, Password: labPass})
		dialEcho(t, fmt.Sprintf("http://%s:%s@%s", labUser, labPass, s.Addr), echo)
	})
}

func TestProxyErrors(t *testing.T) {
	echo := proxytest.StartLineEcho(t)
	_, echoPort, _ := net.SplitHostPort(echo)
	blocked := proxytest.FreePort(t)
	closed := proxytest.ClosedAddr(t)
	down := proxytest.ClosedAddr(t)
	dante := proxytest.StartDante(t, proxytest.DanteOptions{BlockPort: blocked})
	authWhy := proxytest.DanteAuthUnavailable()
	danteAuth := &proxytest.Server{Addr: "dante-auth.invalid:1080"}
	if authWhy == "" {
		danteAuth = proxytest.StartDante(t, proxytest.DanteOptions{User: labUser, Password: labPass, BlockPort: blocked})
	}
	tiny := proxytest.StartTinyproxy(t, proxytest.TinyOptions{User: labUser, Password: labPass, ConnectPorts: []int{mustAtoi(echoPort), portOf(closed)}})
	blockedAddr := fmt.Sprintf("127.0.0.1:%d", blocked)

	tests := []struct {
		name, proxy, addr string
		want              error
		text              string // must appear in the message
	}{
		{"socks5 proxy down", "socks5://" + down, echo, proxy.ErrProxyDown, "check the proxy server and port"},
		{"socks4 proxy down", "socks4://" + down, echo, proxy.ErrProxyDown, "connection refused"},
		{"http proxy down", "http://" + down, echo, proxy.ErrProxyDown, down},
		{"socks5 wrong password", fmt.Sprintf("socks5://%s:wrong@%s", labUser, danteAuth.Addr), echo, proxy.ErrAuth, "user name and password"},
		{"socks5 no credentials", "socks5://" + danteAuth.Addr, echo, proxy.ErrAuth, "requires a user name and password"},
		{"http wrong password", fmt.Sprintf("http://%s:wrong@%s", labUser, tiny.Addr), echo, proxy.ErrAuth, "wrong user name or password"},
		{"http no credentials", "http://" + tiny.Addr, echo, proxy.ErrAuth, "requires a user name and password"},
		{"socks5 destination refused", "socks5://" + dante.Addr, closed, proxy.ErrDestination, "connection refused"},
		{"socks5 auth destination refused", fmt.Sprintf("socks5://%s:%s@%s", labUser, labPass, danteAuth.Addr), closed, proxy.ErrDestination, "server behind it"},
		{"socks4 destination refused", "socks4://" + dante.Addr, closed, proxy.ErrDestination, "rejected"},
		{"http destination refused", fmt.Sprintf("http://%s:%s@%s", labUser, labPass, tiny.Addr), closed, proxy.ErrDestination, "server behind it"},
		{"socks5 blocked by rules", "socks5://" + dante.Addr, blockedAddr, proxy.ErrNotAllowed, "not allowed by ruleset"},
		{"socks4 blocked by rules", "socks4://" + dante.Addr, blockedAddr, proxy.ErrNotAllowed, "rejected"},
		{"http blocked port", fmt.Sprintf("http://%s:%s@%s", labUser, labPass, tiny.Addr), blockedAddr, proxy.ErrNotAllowed, "does not allow CONNECT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.proxy, danteAuth.Addr) && authWhy != "" {
				testenv.Missing(t, "%s", authWhy)
			}
			d, err := proxy.New(tc.proxy)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			conn, err := d.DialContext(ctx, "tcp", tc.addr)
			if err == nil {
				conn.Close()
				t.Fatalf("DialContext(%s) via %s = nil error, want %v", tc.addr, d, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("DialContext(%s) via %s = %v, want errors.Is %v", tc.addr, d, err, tc.want)
			}
			var pe *proxy.Error
			if !errors.As(err, &pe) {
				t.Errorf("DialContext error %T is not *proxy.Error", err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("DialContext error = %q, want it to contain %q", err, tc.text)
			}
			if strings.Contains(err.Error(), "wrong@") || strings.Contains(err.Error(), labPass) {
				t.Errorf("DialContext error = %q leaks the password", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		in       string
		kind     proxy.Kind
		addr     string
		user     string
		password string
		wantErr  string
	}{
		{"socks5://u:p@127.0.0.1:1080", proxy.SOCKS5, "127.0.0.1:1080", "u", "p", ""},
		{"SOCKS5://proxy.lan", proxy.SOCKS5, "proxy.lan:1080", "", "", ""},
		{"socks4://me@10.0.0.1:9050", proxy.SOCKS4, "10.0.0.1:9050", "me", "", ""},
		{"socks4a://10.0.0.1", proxy.SOCKS4A, "10.0.0.1:1080", "", "", ""},
		{"http://a%40b:p%3Aq@[::1]:3128", proxy.HTTP, "[::1]:3128", "a@b", "p:q", ""},
		{"http://host", proxy.HTTP, "host:8080", "", "", ""},
		{"ftp://host", "", "", "", "", "unknown scheme"},
		{"socks5://:1080", "", "", "", "", "no host"},
		{"socks5://h:99999", "", "", "", "", "bad port"},
		{"socks5://u:secret@h:%zz", "", "", "", "", "parse"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := proxy.New(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New(%q) = %v, want error containing %q", tc.in, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("New(%q) error %q leaks the password", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q) = %v", tc.in, err)
			}
			if d.Kind != tc.kind || d.Addr != tc.addr || d.User != tc.user || d.Password != tc.password {
				t.Errorf("New(%q) = %s %s %q %q, want %s %s %q %q", tc.in, d.Kind, d.Addr, d.User, d.Password, tc.kind, tc.addr, tc.user, tc.password)
			}
		})
	}
}

// TestHandshakeTimeout: a proxy that accepts and never answers.
func TestHandshakeTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	for _, scheme := range []string{"socks5", "socks4", "http"} {
		t.Run(scheme, func(t *testing.T) {
			d, err := proxy.New(scheme+"://"+l.Addr().String(), proxy.WithHandshakeTimeout(200*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			_, err = d.Dial("tcp", "127.0.0.1:1")
			if !errors.Is(err, proxy.ErrProtocol) {
				t.Errorf("Dial via silent proxy = %v, want ErrProtocol", err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("Dial via silent proxy = %v, want a timeout", err)
			}
		})
	}
}

func mustAtoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	return mustAtoi(p)
}

package wininet_test

import (
	"github.com/oemkit/messenger/internal/testenv"

	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/certs/certstest"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/proxy"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

const (
	labUser = "lab"
	labPass = "s3cret"
)

type lab struct {
	store    *certs.Store
	resolver *wininet.Resolver
	good     string // https://login.lab:port
	expired  string
	rogue    string
	plain    string // http://login.lab:port
}

func newLab(t *testing.T) *lab {
	t.Helper()
	ca := certstest.NewCA(t, "OEM Device Root")
	rogue := certstest.NewCA(t, "Rogue CA")
	dir := t.TempDir()
	st, err := certs.Load(certs.Config{RootFiles: []string{certstest.WriteCert(t, dir, "root.pem", ca.Cert)}})
	if err != nil {
		t.Fatal(err)
	}
	dns := startDNS(t, map[string]netip.Addr{
		"login.lab": netip.MustParseAddr("127.0.0.1"),
		"old.lab":   netip.MustParseAddr("127.0.0.1"),
		"evil.lab":  netip.MustParseAddr("127.0.0.1"),
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.Header.Get("User-Agent"))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hello", http.StatusFound) })
	mux.HandleFunc("/cookie", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("MSPAuth"); err == nil {
			fmt.Fprintf(w, "cookie %s", c.Value)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "MSPAuth", Value: "t123", Path: "/"})
		fmt.Fprint(w, "set")
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	serve := func(c tls.Certificate) string {
		s := httptest.NewUnstartedServer(mux)
		s.TLS = &tls.Config{Certificates: []tls.Certificate{c}}
		s.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
		s.StartTLS()
		t.Cleanup(s.Close)
		_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
		return port
	}
	l := &lab{store: st, resolver: &wininet.Resolver{Servers: []string{dns}}}
	l.good = "https://login.lab:" + serve(ca.Issue(t, certstest.Leaf{CN: "login.lab", DNSNames: []string{"login.lab", "localhost"}}))
	l.expired = "https://old.lab:" + serve(ca.Issue(t, certstest.Leaf{CN: "old.lab", DNSNames: []string{"old.lab"},
		NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}))
	l.rogue = "https://evil.lab:" + serve(rogue.Issue(t, certstest.Leaf{CN: "evil.lab", DNSNames: []string{"evil.lab"}}))
	ps := httptest.NewServer(mux)
	t.Cleanup(ps.Close)
	_, port, _ := net.SplitHostPort(ps.Listener.Addr().String())
	l.plain = "http://login.lab:" + port
	return l
}

func (l *lab) client(t *testing.T, proxyURL string, mod func(*wininet.Config)) *http.Client {
	t.Helper()
	cfg := wininet.Config{Proxy: proxyURL, Certs: l.store, Resolver: l.resolver, Timeout: 30 * time.Second, UserAgent: "MSMSGS", Cookies: true}
	if mod != nil {
		mod(&cfg)
	}
	c, err := wininet.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient = %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if err := wininet.CheckStatus(resp); err != nil {
		return string(b), err
	}
	return string(b), nil
}

// TestClientThroughProxies: HTTPS and plain HTTP through each real proxy
// kind. With SOCKS4 the device resolves the name (lease DNS); SOCKS5 and
// HTTP proxies resolve it themselves, so they get a name they know.
func TestClientThroughProxies(t *testing.T) {
	l := newLab(t)
	dante := proxytest.StartDante(t, proxytest.DanteOptions{})
	authWhy, danteAuth := startDanteAuth(t)
	tiny := proxytest.StartTinyproxy(t, proxytest.TinyOptions{User: labUser, Password: labPass})
	tests := []struct {
		name, proxy  string
		remoteLookup bool
	}{
		{"direct", "", false},
		{"socks4", "socks4://" + dante.Addr, false},
		{"socks5", "socks5://" + dante.Addr, true},
		{"socks5-auth", fmt.Sprintf("socks5://%s:%s@%s", labUser, labPass, danteAuth.Addr), true},
		{"http", fmt.Sprintf("http://%s:%s@%s", labUser, labPass, tiny.Addr), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.proxy, danteAuth.Addr) && authWhy != "" {
				testenv.Missing(t, "%s", authWhy)
			}
			c := l.client(t, tc.proxy, nil)
			for _, u := range []string{l.good + "/hello", l.good + "/redirect", l.plain + "/hello"} {
				if tc.remoteLookup {
					u = strings.Replace(u, "login.lab", "localhost", 1)
				}
				body, err := get(c, u)
				if err != nil || body != "hello MSMSGS" {
					t.Fatalf("GET %s via %s = %q, %v; want hello MSMSGS", u, tc.name, body, err)
				}
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	l := newLab(t)
	down := proxytest.ClosedAddr(t)
	tiny := proxytest.StartTinyproxy(t, proxytest.TinyOptions{User: labUser, Password: labPass})
	authWhy, danteAuth := startDanteAuth(t)
	tests := []struct {
		name  string
		proxy string
		url   string
		want  []error
		text  []string
	}{
		{"expired", "", l.expired + "/hello", []error{wininet.ErrTLS, certs.ErrExpired}, []string{"tls:", `"old.lab"`, "expired on"}},
		{"unknown issuer", "", l.rogue + "/hello", []error{wininet.ErrTLS, certs.ErrUnknownIssuer}, []string{`"evil.lab"`, `unknown issuer "Rogue CA"`}},
		{"dns", "", "https://nobody.lab/hello", []error{wininet.ErrDNS}, []string{"dns:", `"nobody.lab"`, l.resolver.Servers[0]}},
		{"refused", "", "https://login.lab:" + strings.Split(down, ":")[1] + "/", []error{wininet.ErrConnect}, []string{"connect:", "connection refused"}},
		{"socks proxy down", "socks5://" + down, l.good + "/hello", []error{wininet.ErrProxy, proxy.ErrProxyDown}, []string{"proxy:", down}},
		{"http proxy down https", "http://" + down, l.good + "/hello", []error{wininet.ErrProxy, proxy.ErrProxyDown}, []string{"proxy:", down}},
		{"http proxy down http", "http://" + down, l.plain + "/hello", []error{wininet.ErrProxy, proxy.ErrProxyDown}, []string{"proxy:", down}},
		{"http proxy wrong password https", fmt.Sprintf("http://%s:wrong@%s", labUser, tiny.Addr), l.good + "/hello", []error{wininet.ErrProxy, proxy.ErrAuth}, []string{"proxy:", "wrong user name or password"}},
		{"http proxy wrong password http", fmt.Sprintf("http://%s:wrong@%s", labUser, tiny.Addr), strings.Replace(l.plain, "login.lab", "localhost", 1) + "/hello", []error{wininet.ErrProxy, proxy.ErrAuth}, []string{"proxy:", "user name and password"}},
		{"socks5 wrong password", fmt.Sprintf("socks5://%s:wrong@%s", labUser, danteAuth.Addr), strings.Replace(l.good, "login.lab", "localhost", 1) + "/hello", []error{wininet.ErrProxy, proxy.ErrAuth}, []string{"proxy:", "user name and password"}},
		{"server status", "", l.good + "/broken", []error{wininet.ErrServer}, []string{"server:", "503"}},
		{"redirect loop", "", l.good + "/loop", []error{wininet.ErrServer, wininet.ErrTooManyRedirects}, []string{"too many redirects"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.proxy, danteAuth.Addr) && authWhy != "" {
				testenv.Missing(t, "%s", authWhy)
			}
			c := l.client(t, tc.proxy, nil)
			body, err := get(c, tc.url)
			if err == nil {
				t.Fatalf("GET %s = %q, nil; want an error", tc.url, body)
			}
			t.Logf("GET %s: %v", tc.url, err)
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("GET %s = %v, want errors.Is %v", tc.url, err, w)
				}
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("GET %s = %q, want it to contain %q", tc.url, err, s)
				}
			}
		})
	}
}

func TestClientCookiesAndRedirectLimit(t *testing.T) {
	l := newLab(t)
	c := l.client(t, "", nil)
	for i, want := range []string{"set", "cookie t123"} {
		if body, err := get(c, l.good+"/cookie"); err != nil || body != want {
			t.Fatalf("GET /cookie #%d = %q, %v; want %q", i, body, err, want)
		}
	}
	nofollow := l.client(t, "", func(cfg *wininet.Config) { cfg.MaxRedirects = -1 })
	resp, err := nofollow.Get(l.good + "/redirect")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Errorf("GET /redirect with MaxRedirects -1 = %d, want 302", resp.StatusCode)
	}
}

// TestDialerByName: the NS dialer resolves with the lease's DNS server and
// reaches a line server directly and through SOCKS4 (device resolves).
func TestDialerByName(t *testing.T) {
	echo := proxytest.StartLineEcho(t)
	_, port, _ := net.SplitHostPort(echo)
	dns := startDNS(t, map[string]netip.Addr{"ns.lab": netip.MustParseAddr("127.0.0.1")})
	dante := proxytest.StartDante(t, proxytest.DanteOptions{})
	for _, p := range []string{"", "socks4://" + dante.Addr} {
		d, err := wininet.NewDialer(wininet.Config{Proxy: p, Resolver: &wininet.Resolver{Servers: []string{dns}}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Dial("tcp", "ns.lab:"+port)
		if err != nil {
			t.Fatalf("Dial(ns.lab) via %q = %v", p, err)
		}
		c.SetDeadline(time.Now().Add(20 * time.Second))
		fmt.Fprint(c, "VER 1 MSNP8 CVR0\r\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if err != nil || line != "VER 1 MSNP8 CVR0\r\n" {
			t.Fatalf("echo via %q = %q, %v", p, line, err)
		}
		_, err = d.Dial("tcp", "nobody.lab:"+port)
		if !errors.Is(err, wininet.ErrDNS) && !errors.Is(err, proxy.ErrDestination) {
			t.Errorf("Dial(nobody.lab) via %q = %v, want a DNS failure", p, err)
		}
		if err == nil || !strings.Contains(err.Error(), "nobody.lab") || !strings.Contains(err.Error(), dns) {
			t.Errorf("Dial(nobody.lab) via %q = %v, want it to name the name and server %s", p, err, dns)
		}
	}
}

// startDanteAuth starts dante with username authentication, or returns
// why it cannot run here and a placeholder server.
func startDanteAuth(t *testing.T) (string, *proxytest.Server) {
	why := proxytest.DanteAuthUnavailable()
	if why != "" {
		return why, &proxytest.Server{Addr: "dante-auth.invalid:1080"}
	}
	return "", proxytest.StartDante(t, proxytest.DanteOptions{User: labUser, Password: labPass})
}

func TestKeepAliveBound(t *testing.T) {
	if got, want := wininet.DefaultKeepAlive.Bound(), 60*time.Second; got != want {
		t.Errorf("DefaultKeepAlive.Bound() = %v, want %v", got, want)
	}
}

package browserhost

import (
	"context"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/messengerd/startpage"
)

// forwardProxy is an HTTP proxy on loopback: CONNECT tunnels and
// absolute-URI requests; it records what it was asked for.
type forwardProxy struct {
	mu   sync.Mutex
	seen []string
}

func (p *forwardProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.Host)
	p.mu.Unlock()
	if r.Method == http.MethodConnect {
		up, err := net.DialTimeout("tcp", r.Host, 5*time.Second)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
		c.Close()
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

// TestHostThroughProxyAndCertStore opens the start page over HTTPS through
// an HTTP proxy, trusting the server only through the WinInet client's
// certificate store; without the server's CA in the store the page is
// refused with the reason.
func TestHostThroughProxyAndCertStore(t *testing.T) {
	srv := httptest.NewTLSServer(startpage.Handler())
	defer srv.Close()
	px := &forwardProxy{}
	psrv := httptest.NewServer(px)
	defer psrv.Close()

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := certs.Load(certs.Config{RootDir: t.TempDir(), ExtraCAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(wininet.Config{Proxy: psrv.URL, Certs: store}, Limits{}, testFonts(t), 480)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Open(ctx, srv.URL+startpage.Path); err != nil {
		t.Fatal(err)
	}
	if h.Page.Doc.Title != ".NET Messenger Service" || len(h.Pictures) != 2 || h.Pictures[0].Err != "" || h.Pictures[1].Err != "" {
		t.Errorf("through the proxy: title %q, pictures %+v", h.Page.Doc.Title, h.Pictures)
	}
	px.mu.Lock()
	seen := strings.Join(px.seen, ";")
	px.mu.Unlock()
	if !strings.Contains(seen, "CONNECT "+srv.Listener.Addr().String()) {
		t.Errorf("proxy saw %q, want CONNECTs to the page's server", seen)
	}

	empty, err := certs.Load(certs.Config{RootDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := New(wininet.Config{Proxy: psrv.URL, Certs: empty}, Limits{}, testFonts(t), 480)
	if err != nil {
		t.Fatal(err)
	}
	err = untrusted.Open(ctx, srv.URL+startpage.Path)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "certificate") {
		t.Errorf("Open without the CA = %v, want a certificate error", err)
	}
	t.Logf("without the CA: %v", err)
}

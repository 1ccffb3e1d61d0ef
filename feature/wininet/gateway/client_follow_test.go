package gateway

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// echoGW wraps a gateway so that, for switchboard sessions, GW-IP names
// the switchboard address of the open request's IP=, as an independent
// MSNP8 service's gateway did.
type echoGW struct {
	next     http.Handler
	mu       sync.Mutex
	sessions map[string]string // SessionID -> IP= of its open request
	requests atomic.Int64
}

type headerHook struct {
	http.ResponseWriter
	hook func(http.Header)
	done bool
}

func (h *headerHook) WriteHeader(code int) {
	if !h.done {
		h.done = true
		h.hook(h.Header())
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *headerHook) Write(b []byte) (int, error) {
	if !h.done {
		h.WriteHeader(http.StatusOK)
	}
	return h.ResponseWriter.Write(b)
}

func (e *echoGW) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.requests.Add(1)
	q := r.URL.Query()
	hw := &headerHook{ResponseWriter: w, hook: func(hd http.Header) {
		h, err := ParseHeader(hd.Get(HeaderName))
		if err != nil {
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if q.Get("Action") == "open" && q.Get("Server") == "SB" {
			e.sessions[h.SessionID] = q.Get("IP")
		}
		if ip, ok := e.sessions[h.SessionID]; ok {
			h.GatewayIP = ip
			hd.Set(HeaderName, h.String())
		}
	}}
	e.next.ServeHTTP(hw, r)
}

// TestFollowGatewayNotSwitchboard: a GW-IP that repeats the switchboard
// address does not move the session's requests to the raw switchboard
// port; they stay on the gateway's port.
func TestFollowGatewayNotSwitchboard(t *testing.T) {
	sb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	var raw atomic.Int64 // HTTP requests that reached the switchboard port
	go func() {
		for {
			c, err := sb.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					f := strings.Fields(line)
					switch {
					case len(f) > 0 && f[0] == "POST":
						raw.Add(1)
						return
					case len(f) >= 2:
						io.WriteString(c, f[0]+" "+f[1]+" OK\r\n")
					}
				}
			}()
		}
	}()
	gw := &echoGW{next: &Server{NSAddr: sb.Addr().String()}, sessions: map[string]string{}}
	hs := httptest.NewServer(gw)
	defer hs.Close()
	d := &Dialer{URL: hs.URL + Path, PollInterval: 50 * time.Millisecond, RequestTimeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := d.Dial(ctx, SB, sb.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	for i, cmd := range []string{"USR 1 alice@example.com 1.2.3", "CAL 2 bob@example.com", "MSG 3 N 0"} {
		if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
			t.Fatalf("write %q: %v", cmd, err)
		}
		got, err := br.ReadString('\n')
		if want := strings.Join(strings.Fields(cmd)[:2], " ") + " OK\r\n"; err != nil || got != want {
			t.Fatalf("reply %d = %q, %v; want %q (requests to the raw switchboard port: %d)", i, got, err, want, raw.Load())
		}
	}
	if n := raw.Load(); n != 0 {
		t.Errorf("%d HTTP requests went to the raw switchboard port, want 0", n)
	}
}

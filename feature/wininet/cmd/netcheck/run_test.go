package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oemkit/messenger/feature/certs/certstest"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "Lab CA")
	caFile := certstest.WriteCert(t, dir, "lab.pem", ca.Cert)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, certstest.Leaf{CN: "lab", IPs: []net.IP{net.IPv4(127, 0, 0, 1)}})}}
	srv.StartTLS()
	defer srv.Close()
	echo := proxytest.StartLineEcho(t)
	closed := proxytest.ClosedAddr(t)
	dante := proxytest.StartDante(t, proxytest.DanteOptions{})
	base := []string{"-certs", dir + "/none", "-ca", caFile, "-dns", "127.0.0.1:1"}

	tests := []struct {
		name    string
		args    []string
		wantErr error
		out     []string
	}{
		{"direct ok", append(base, srv.URL+"/", echo), nil, []string{"ok   " + srv.URL + "/ (direct) 200 OK", "ok   " + echo + " (direct) connected"}},
		{"socks5 ok", append(base, "-proxy", "socks5://"+dante.Addr, srv.URL+"/", echo), nil, []string{"(via socks5://" + dante.Addr + ") 200 OK"}},
		{"refused", append(base, closed), errFailed, []string{"FAIL " + closed + " (direct) at connect:"}},
		{"untrusted", []string{"-certs", dir + "/none", "-dns", "127.0.0.1:1", srv.URL + "/"}, errFailed, []string{"at tls:", `unknown issuer "Lab CA"`}},
		{"proxy down", append(base, "-proxy", "socks5://"+closed, echo), errFailed, []string{"at proxy:", "proxy unreachable"}},
		{"no target", base, usageError{}, nil},
		{"bad proxy", append(base, "-proxy", "gopher://x", echo), usageError{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), tc.args, strings.NewReader(""), &out, &errOut)
			switch want := tc.wantErr.(type) {
			case nil:
				if err != nil {
					t.Fatalf("run = %v, want nil; output:\n%s%s", err, out.String(), errOut.String())
				}
			case usageError:
				var ue usageError
				if !errors.As(err, &ue) {
					t.Fatalf("run = %v, want a usage error", err)
				}
			default:
				if !errors.Is(err, want) {
					t.Fatalf("run = %v, want %v", err, want)
				}
			}
			for _, s := range tc.out {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output = %q, want it to contain %q", out.String(), s)
				}
			}
		})
	}
}

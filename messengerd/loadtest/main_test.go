package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/labca"
	"github.com/oemkit/messenger/messengerd/passport"
	"github.com/oemkit/messenger/messengerd/server"
	"github.com/oemkit/messenger/messengerd/store"
)

// TestLoadSmoke runs the load tool against a real messengerd on loopback
// with a few clients: accounts created, all sign in, messages acknowledged.
func TestLoadSmoke(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var out strings.Builder
	if err := run(ctx, []string{"-create", "-data", dir, "-clients", "6", "-password", "pw"}, &out, io.Discard); err != nil {
		t.Fatalf("create: %v", err)
	}
	msnpAddr, nexus := startLab(t, dir, nil)

	out.Reset()
	args := []string{"-addr", msnpAddr, "-nexus", nexus,
		"-ca", filepath.Join(dir, labca.CertFile), "-password", "pw", "-pid", itoa(os.Getpid()),
		"-clients", "6", "-convs", "2", "-rate", "200", "-duration", "1s", "-hold", "100ms"}
	if err := run(ctx, args, &out, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if rep.SignInFailures != 0 || rep.Sent == 0 || rep.Acked != rep.Sent || rep.Received != rep.Sent || rep.Naked != 0 || rep.P99us <= 0 || rep.ServerRSSAfter == 0 {
		t.Errorf("report = %+v, want all signed in and every message acknowledged and received", rep)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestServerDiesMidRun: sign-ins fail in different ways once the server
// goes away part-way through (a refused login, then no server to connect
// to). The tool reports the failures instead of panicking.
func TestServerDiesMidRun(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	// Accounts 0 and 1 exist; 2 and 3 do not, so their login is refused.
	if err := run(ctx, []string{"-create", "-data", dir, "-clients", "2", "-password", "pw"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("create: %v", err)
	}
	// The MSNP server dies during the third login (account 2's, which is
	// refused); account 3 then finds no server.
	msnpAddr, nexus := startLab(t, dir, func(srv *server.Server, login http.Handler) http.Handler {
		var logins atomic.Int64
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == passport.LoginPath && logins.Add(1) == 3 {
				srv.Shutdown(ctx)
			}
			login.ServeHTTP(w, r)
		})
	})

	var out, errOut strings.Builder
	args := []string{"-addr", msnpAddr, "-nexus", nexus,
		"-ca", filepath.Join(dir, labca.CertFile), "-password", "pw", "-concurrency", "1",
		"-clients", "4", "-convs", "0", "-rate", "0", "-duration", "0s"}
	if err := run(ctx, args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var rep Report
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	if rep.SignInFailures != 2 {
		t.Errorf("report = %+v, want 2 sign-in failures", rep)
	}
	if !strings.Contains(errOut.String(), "first sign-in error: labclient: passport login failed") {
		t.Errorf("stderr = %q, want the first sign-in error (the refused login)", errOut.String())
	}
}

// startLab serves the accounts in dir until the test ends: a Passport
// login over TLS with the lab CA (through wrap, when set) and an MSNP
// server. It returns the MSNP address and the nexus URL.
func startLab(t *testing.T, dir string, wrap func(srv *server.Server, login http.Handler) http.Handler) (msnpAddr, nexus string) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ca, err := labca.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert(labca.DefaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := passport.NewTickets(passport.NewKey(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Tickets: tk})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	mux := http.NewServeMux()
	(&passport.Service{Auth: st, Tickets: tk}).Register(mux)
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(srv, mux)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go hs.ServeTLS(hl, "", "")
	t.Cleanup(func() { hs.Close() })
	return l.Addr().String(), "https://" + hl.Addr().String() + passport.NexusPath
}

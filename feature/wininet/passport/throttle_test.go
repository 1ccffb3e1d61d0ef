package passport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/wininet/passport"
	"github.com/oemkit/messenger/messengerd/labca"
	lab "github.com/oemkit/messenger/messengerd/passport"
	"github.com/oemkit/messenger/messengerd/store"
)

// TestLoginThrottled: against messengerd's Passport service, wrong
// passwords turn into ErrThrottled with the time to wait, not into a
// wrong-password error the user would keep retrying.
func TestLoginThrottled(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddUser(context.Background(), "alice@lab.test", "right", ""); err != nil {
		t.Fatal(err)
	}
	ca, err := labca.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert(labca.DefaultHosts)
	if err != nil {
		t.Fatal(err)
	}
	tk, _ := lab.NewTickets(lab.NewKey(), time.Hour)
	mux := http.NewServeMux()
	(&lab.Service{Auth: st, Tickets: tk}).Register(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go hs.ServeTLS(l, "", "")
	defer hs.Close()
	c := &passport.Client{HTTP: passport.NewHTTPClient(ca.Pool(), nil), Nexus: "https://" + l.Addr().String() + lab.NexusPath}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := c.Login(ctx, "alice@lab.test", "wrong", ""); !errors.Is(err, passport.ErrWrongPassword) {
			t.Fatalf("wrong password %d: %v, want ErrWrongPassword", i+1, err)
		}
	}
	_, err = c.Login(ctx, "alice@lab.test", "right", "")
	if !errors.Is(err, passport.ErrThrottled) || !strings.Contains(err.Error(), "try again in 1 s") {
		t.Fatalf("login right after 3 wrong passwords = %v, want ErrThrottled saying to try again in 1 s", err)
	}
	time.Sleep(1100 * time.Millisecond)
	if _, err := c.Login(ctx, "alice@lab.test", "right", ""); err != nil {
		t.Fatalf("right password after the wait: %v", err)
	}
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
)

// TestServeSIP starts "messengerd serve -sip" with a keytab from an MIT
// KDC and signs a SIP account in through it.
func TestServeSIP(t *testing.T) {
	realm := kdctest.Start(t)
	realm.AddUser(t, "alice", "alice-pass")
	kt := realm.AddService(t, "sip/lab.test", "")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-data", t.TempDir(), "-addr", "127.0.0.1:0", "-https", "127.0.0.1:0",
			"-sip", "127.0.0.1:0", "-keytab", kt, "-sip-service", "sip/lab.test"}, nil, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve = %v", err)
		}
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("reading ready line: %v", err)
	}
	go io.Copy(io.Discard, pr)
	var r ready
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.SIP == "" {
		t.Fatalf("ready line %q: %v (want a sip address)", line, err)
	}
	ua, err := sipua.Dial(ctx, sipua.Config{URI: "sip:alice@lab.test", Server: r.SIP, Timeout: 5 * time.Second,
		Kerberos: kerberos.Config{Realm: realm.Name, KDCs: []string{realm.KDC}, Password: "alice-pass"}})
	if err != nil {
		t.Fatalf("Dial(%s) = %v", r.SIP, err)
	}
	if err := ua.SetPresence(ctx, "away"); err != nil {
		t.Errorf("SetPresence = %v", err)
	}
	ua.Close()
}

func TestServeSIPUsage(t *testing.T) {
	err := run(context.Background(), []string{"serve", "-data", t.TempDir(), "-addr", "127.0.0.1:0", "-https", "127.0.0.1:0", "-sip", "127.0.0.1:0"}, nil, io.Discard, io.Discard)
	if _, ok := err.(usageError); !ok {
		t.Errorf("serve -sip without -keytab = %v, want a usage error", err)
	}
}

// TestServeSIPBadService: a -sip-service that is not sip/HOST is an error
// that says so.
func TestServeSIPBadService(t *testing.T) {
	err := run(context.Background(), []string{"serve", "-data", t.TempDir(), "-addr", "127.0.0.1:0", "-https", "127.0.0.1:0",
		"-sip", "127.0.0.1:0", "-keytab", "/nonexistent.keytab", "-sip-service", "ab"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "want sip/host") {
		t.Errorf("serve -sip-service ab = %v, want the service principal refused", err)
	}
}

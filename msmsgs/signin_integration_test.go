package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
)

// ctlIn runs `msmsgs ctl -ctl sock args...` with stdin.
func ctlIn(ctx context.Context, sock, stdin string, args ...string) (string, error) {
	var out, errb bytes.Buffer
	err := runCtlInput(ctx, append([]string{"-ctl", sock}, args...), strings.NewReader(stdin), &out, &errb, func(string) string { return "" }, english())
	return out.String(), err
}

// TestSigninLab: a daemon started with a server and no account waits for
// msmsgs ctl signin against the real messengerd: a wrong password is
// refused and leaves it waiting, the right one signs in, a second signin
// is refused until signout.
func TestSigninLab(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const alice, pw, wrong = "alice@example.com", "right-pw-7", "wrong-pw-3"
	l := newLab(t, map[string]string{alice: pw})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	args := []string{"daemon", "-server", l.r.Addr, "-nexus", l.r.Nexus, "-ca", l.r.CA, "-ctl", sock, "-reconnect-max", "400ms"}
	dctx, dcancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- runEnv(dctx, args, strings.NewReader(""), io.Discard, &logs, func(string) string { return "" })
	}()
	defer func() {
		dcancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
		for _, p := range []string{pw, wrong} {
			if strings.Contains(logs.String(), p) {
				t.Errorf("daemon log contains a password %q", p)
			}
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no control socket within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "waiting for a sign-in") {
		t.Errorf("daemon log lacks the waiting-for-sign-in line:\n%s", logs.String())
	}
	if out, err := ctlIn(ctx, sock, "", "status"); err != nil || !strings.Contains(out, `"state":"no-account"`) {
		t.Errorf("status before signin = %q, %v; want state no-account", out, err)
	}
	if _, err := ctlIn(ctx, sock, "", "contacts"); err == nil || !strings.Contains(err.Error(), "sign in first") {
		t.Errorf("contacts before signin = %v, want: sign in first", err)
	}
	if _, err := ctlIn(ctx, sock, "", "signin"); err == nil || !strings.Contains(err.Error(), "usage: signin ACCOUNT") {
		t.Errorf("signin without an account = %v, want the usage", err)
	}
	if _, err := ctlIn(ctx, sock, "", "signin", alice); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("signin without a password = %v, want: no password", err)
	}
	if _, err := ctlIn(ctx, sock, strings.Repeat("x", 300)+"\n", "signin", alice); err == nil || !strings.Contains(err.Error(), "longer than 256 bytes") {
		t.Errorf("signin with a 300-byte password = %v, want: longer than 256 bytes", err)
	}
	_, err := ctlIn(ctx, sock, wrong+"\n", "signin", alice)
	if err == nil || !strings.Contains(err.Error(), "check the account and password") {
		t.Fatalf("signin with a wrong password = %v, want the sign-in refused error", err)
	}
	if strings.Count(err.Error(), "check the account and password") != 1 {
		t.Errorf("error repeats its advice: %v", err)
	}
	if out, err := ctlIn(ctx, sock, "", "status"); err != nil || !strings.Contains(out, `"state":"no-account"`) {
		t.Errorf("status after a refused signin = %q, %v; want state no-account (no client)", out, err)
	}
	out, err := ctlIn(ctx, sock, pw+"\n", "signin", alice)
	if err != nil {
		t.Fatalf("signin with the right password: %v", err)
	}
	var in client.Info
	if err := json.Unmarshal([]byte(out), &in); err != nil || in.Account != alice || in.State != client.StateSignedIn {
		t.Fatalf("signin result %q (%v): want alice signed in", out, err)
	}
	out, err = ctlIn(ctx, sock, "", "status")
	if err != nil || !strings.Contains(out, alice) {
		t.Errorf("status after signin = %q, %v; want alice", out, err)
	}
	if _, err := ctlIn(ctx, sock, pw+"\n", "signin", alice); err == nil || !strings.Contains(err.Error(), alice+" is signed in; sign out first") {
		t.Errorf("signin while signed in = %v, want: sign out first", err)
	}
	seq := lastSeq(t, ctx, sock)
	if _, err := ctlIn(ctx, sock, "", "signout"); err != nil {
		t.Fatalf("signout: %v", err)
	}
	if e := waitFor(t, ctx, sock, seq, "disconnected", "reason=signout"); e.Account != alice {
		t.Errorf("signout event %+v, want alice's", e)
	}
	if _, err := ctlIn(ctx, sock, "", "signout"); err == nil || !strings.Contains(err.Error(), "no account is signed in") {
		t.Errorf("second signout = %v, want: no account is signed in", err)
	}
	// Signed out, the daemon takes a sign-in again.
	if _, err := ctlIn(ctx, sock, pw+"\r\n", "signin", alice); err != nil {
		t.Fatalf("signin after signout: %v", err)
	}
}

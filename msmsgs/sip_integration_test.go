package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
	"github.com/oemkit/messenger/msmsgs/sipaccount"
)

// sipLab is an MIT KDC (realm LAB.TEST) and messengerd serving both the
// .NET Messenger protocol and the Kerberos SIP service (sip/lab.test).
type sipLab struct {
	*lab
	realm *kdctest.Realm
	sip   string // the SIP service's 127.0.0.1:port
}

func newSIPLab(t *testing.T, msnUsers map[string]string, sipUsers map[string]string) *sipLab {
	t.Helper()
	r := kdctest.Start(t)
	for u, pw := range sipUsers {
		r.AddUser(t, u, pw)
	}
	kt := r.AddService(t, "sip/lab.test", "")
	sip := fmt.Sprintf("127.0.0.1:%d", proxytest.FreePort(t))
	l := newLab(t, msnUsers, "-sip", sip, "-keytab", kt, "-sip-service", "sip/lab.test", "-sip-domain", "lab.test")
	return &sipLab{lab: l, realm: r, sip: sip}
}

// sipSettings writes a settings file for the SIP account user and returns
// its path; more are extra keys.
func (l *sipLab) sipSettings(t *testing.T, user, password string, more map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "sip-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := map[string]any{"sip.uri": "sip:" + user + "@lab.test", "sip.server": l.sip, "sip.password_file": pwFile,
		"kerberos.realm": l.realm.Name, "kerberos.kdc": l.realm.KDC, "kerberos.krb5_conf": filepath.Join(dir, "krb5.conf")}
	for k, v := range more {
		s[k] = v
	}
	b, _ := json.Marshal(s)
	path := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sipOnlyDaemon runs `msmsgs daemon -config FILE` with a SIP account and
// no .NET Messenger account.
func sipOnlyDaemon(t *testing.T, ctx context.Context, config string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	var logs syncBuffer
	go func() {
		done <- runEnv(ctx, []string{"daemon", "-config", config, "-ctl", sock, "-reconnect-max", "2s"}, strings.NewReader(""), io.Discard, &logs, func(string) string { return "" })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("daemon %s: %v", config, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("daemon %s did not stop", config)
		}
		if t.Failed() {
			t.Logf("daemon %s log:\n%s", config, logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		select {
		case err := <-done:
			t.Fatalf("daemon exited: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no control socket within 30s")
		}
	}
}

func sipInfo(t *testing.T, ctx context.Context, sock string) sipaccount.Info {
	t.Helper()
	var in sipaccount.Info
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, sock, "status", "sip:")), &in); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestSIPAccounts: an MIT KDC, the lab's SIP service and two msmsgs
// daemons: alice with both accounts (.NET Messenger and SIP) signed in at
// once, bob with the SIP account alone. They watch each other's presence
// and exchange messages over SIP, driven through msmsgs ctl; alice's MSNP
// account keeps working beside it.
func TestSIPAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd and an MIT KDC)")
	}
	const msnAlice, msnCarol = "alice@example.com", "carol@example.com"
	l := newSIPLab(t, map[string]string{msnAlice: "alice-msn", msnCarol: "carol-msn"}, map[string]string{"alice": "alice-krb", "bob": "bob-krb"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	aCfg := l.sipSettings(t, "alice", "alice-krb", nil)
	a := daemon(t, ctx, l.lab, msnAlice, "alice-msn", "-config", aCfg)
	b := sipOnlyDaemon(t, ctx, l.sipSettings(t, "bob", "bob-krb", nil))
	c := daemon(t, ctx, l.lab, msnCarol, "carol-msn")

	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, a, "wait-signin", "-timeout", "60s", "sip:")
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, c, "wait-signin", "-timeout", "60s")
	in := sipInfo(t, ctx, a)
	if in.State != sipaccount.StateSignedIn || in.Account != "sip:alice@lab.test" || in.Realm != "LAB.TEST" || in.Enctype == "" {
		t.Errorf("alice: status sip: = %+v, want signed in as sip:alice@lab.test in LAB.TEST", in)
	}
	t.Logf("alice's SIP sign-in: %+v (signatures with %s)", in.SignIn, in.Enctype)
	krbConf := filepath.Join(filepath.Dir(aCfg), "krb5.conf")
	if b, err := os.ReadFile(krbConf); err != nil || !strings.Contains(string(b), "kdc = "+l.realm.KDC) {
		t.Errorf("the generated krb5.conf: %v\n%s", err, b)
	}

	// Presence over SIP, both ways.
	mustCtl(t, ctx, a, "add", "sip:bob@lab.test")
	mustCtl(t, ctx, b, "add", "sip:alice@lab.test")
	seqA := lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "status", "set", "busy")
	waitFor(t, ctx, a, seqA, "presence", "account=sip:bob@lab.test", "status=BSY")
	seqB := lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "status", "set", "away", "sip:")
	waitFor(t, ctx, b, seqB, "presence", "account=sip:alice@lab.test", "status=away")
	var cs []sipaccount.Contact
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, a, "contacts", "sip:")), &cs); err != nil || len(cs) != 1 || cs[0].Status != "BSY" {
		t.Errorf("alice: contacts sip: = %+v, %v; want bob busy", cs, err)
	}

	// Messages over SIP, both ways.
	seqB = lastSeq(t, ctx, b)
	mustCtl(t, ctx, a, "send", "sip:bob@lab.test", "hello", "over", "SIP")
	if e := waitFor(t, ctx, b, seqB, "message", "account=sip:alice@lab.test"); e.Text != "hello over SIP" {
		t.Errorf("bob got %q", e.Text)
	}
	seqA = lastSeq(t, ctx, a)
	mustCtl(t, ctx, b, "send", "sip:alice@lab.test", "hi alice")
	if e := waitFor(t, ctx, a, seqA, "message", "account=sip:bob@lab.test"); e.Text != "hi alice" {
		t.Errorf("alice got %q", e.Text)
	}

	// Alice's .NET Messenger account works at the same time.
	seqC := lastSeq(t, ctx, c)
	mustCtl(t, ctx, a, "send", msnCarol, "hello over MSNP")
	if e := waitFor(t, ctx, c, seqC, "message", "account="+msnAlice); e.Text != "hello over MSNP" {
		t.Errorf("carol got %q", e.Text)
	}
	if in := sipInfo(t, ctx, a); in.State != sipaccount.StateSignedIn {
		t.Errorf("alice's SIP account after the MSNP message: %+v", in)
	}

	if _, err := ctl(ctx, a, "send", "sip:nobody@lab.test", "x"); err == nil || !strings.Contains(err.Error(), "480") {
		t.Errorf("send to an unregistered user = %v, want 480", err)
	}
}

// TestSIPSignInErrors: a SIP account that cannot sign in says why, in the
// error event and in status sip:, naming what to fix.
func TestSIPSignInErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd and an MIT KDC)")
	}
	l := newSIPLab(t, nil, map[string]string{"alice": "alice-krb"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dead := proxytest.ClosedAddr(t)
	for _, tt := range []struct {
		name, user, password string
		more                 map[string]any
		reason, says         string
	}{
		{"wrong password", "alice", "wrong", nil, sipaccount.ReasonCredentials, "check the password"},
		{"unknown principal", "mallory", "x", nil, sipaccount.ReasonPrincipal, "does not know mallory@LAB.TEST"},
		{"KDC unreachable", "alice", "alice-krb", map[string]any{"kerberos.kdc": dead}, sipaccount.ReasonKDC, "no KDC answered at " + dead + " (the configured kerberos.kdc)"},
		{"SIP server unreachable", "alice", "alice-krb", map[string]any{"sip.server": dead}, sipaccount.ReasonServer, dead + " (sip.server)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := sipOnlyDaemon(t, ctx, l.sipSettings(t, tt.user, tt.password, tt.more))
			e := waitFor(t, ctx, s, "0", "error", "reason="+tt.reason)
			if !strings.Contains(e.Error, tt.says) {
				t.Errorf("error event %q, want it to say %q", e.Error, tt.says)
			}
			in := sipInfo(t, ctx, s)
			if in.State == sipaccount.StateSignedIn || in.Reason != tt.reason || !strings.Contains(in.Error, tt.says) {
				t.Errorf("status sip: = %+v, want reason %s saying %q", in, tt.reason, tt.says)
			}
			// wait-signin fails at once where waiting does not help.
			start := time.Now()
			_, err := ctl(ctx, s, "wait-signin", "-timeout", "3s", "sip:")
			switch permanent := tt.reason == sipaccount.ReasonCredentials || tt.reason == sipaccount.ReasonPrincipal; {
			case err == nil || !strings.Contains(err.Error(), tt.says):
				t.Errorf("wait-signin sip: = %v, want it to say %q", err, tt.says)
			case permanent && time.Since(start) > 2*time.Second:
				t.Errorf("wait-signin sip: took %v to report a %s failure, want at once", time.Since(start), tt.reason)
			}
			if _, err := ctl(ctx, s, "send", "sip:bob@lab.test", "x"); err == nil || !strings.Contains(err.Error(), "not signed in") {
				t.Errorf("send while not signed in = %v", err)
			}
		})
	}
}

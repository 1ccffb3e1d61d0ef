package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
	"github.com/oemkit/messenger/msmsgs/client"
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
	return waitCtlSocket(t, config, sock, done, &logs)
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
	l := newSIPLab(t, map[string]string{msnAlice: "alice-msn", msnCarol: "carol-msn"}, map[string]string{"alice": "alice-krb", "bob": "bob-krb", "carol": "carol-krb"})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Both daemons are voice builds (sysgen_rtc) that send a tone in
	// every call (alice 1000 Hz, bob 1600 Hz) and record what they hear.
	aVoice, heardA := sipVoiceSettings(t, 1000)
	bVoice, heardB := sipVoiceSettings(t, 1600)
	aCfg := l.sipSettings(t, "alice", "alice-krb", aVoice)
	a := voiceDaemon(t, ctx, l.lab, msnAlice, "alice-msn", aCfg)
	b := sipVoiceDaemon(t, ctx, l.sipSettings(t, "bob", "bob-krb", bVoice))
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

	t.Run("calls", func(t *testing.T) { sipCalls(t, ctx, a, b, heardA, heardB) })

	// The console drives a SIP account with the ctl parsing: carol, SIP
	// only, watches bob, sends him a message and calls through /call.
	t.Run("console", func(t *testing.T) {
		in, inW := io.Pipe()
		defer inW.Close()
		var out, logs syncBuffer
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- runEnv(cctx, []string{"console", "-config", l.sipSettings(t, "carol", "carol-krb", nil)}, in, &out, &logs, func(string) string { return "" })
		}()
		defer func() {
			ccancel()
			if err := <-done; err != nil {
				t.Errorf("console: %v\n%s", err, logs.String())
			}
		}()
		say := func(line string) {
			t.Helper()
			if _, err := io.WriteString(inW, line+"\n"); err != nil {
				t.Fatalf("console input: %v", err)
			}
		}
		for end := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "sip:carol@lab.test: signed-in"); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("console never signed in:\n%s\n%s", out.String(), logs.String())
			}
			say("/status sip:")
		}
		say("/help")
		waitOutput(t, &out, "/msg sip:USER@DOMAIN TEXT")
		say("/add sip:bob@lab.test")
		waitOutput(t, &out, "ok")
		seqB := lastSeq(t, ctx, b)
		say("/msg sip:bob@lab.test hello from the console")
		if e := waitFor(t, ctx, b, seqB, "message", "account=sip:carol@lab.test"); e.Text != "hello from the console" {
			t.Errorf("bob got %q from carol's console", e.Text)
		}
		say("more text")
		if e := waitFor(t, ctx, b, seqB, "message", "account=sip:carol@lab.test", "text=more text"); e.Text != "more text" {
			t.Errorf("bob got %q", e.Text)
		}
		say("/list sip:")
		waitOutput(t, &out, "sip:bob@lab.test")
		say("/call sip:bob@lab.test") // this build has no voice: it says so
		waitOutput(t, &out, "failed")
	})
}

// sipCalls: calls over the SIP account, through the lab's SIP server, with
// the ctl commands and events of the .NET Messenger account's calls.
func sipCalls(t *testing.T, ctx context.Context, a, b, heardA, heardB string) {
	const alice, bob = "sip:alice@lab.test", "sip:bob@lab.test"
	probes := []float64{1000, 1600, 440}
	// call places a call from one daemon to the other and answers it.
	call := func(t *testing.T, from, to, fromURI, toURI string) (id, peerID string, setup time.Duration, ev client.Event) {
		t.Helper()
		seqF, seqT := lastSeq(t, ctx, from), lastSeq(t, ctx, to)
		start := time.Now()
		id = callOf(t, mustCtl(t, ctx, from, "call", toURI))
		offer := waitFor(t, ctx, to, seqT, client.EventCallOffer, "account="+fromURI)
		waitFor(t, ctx, from, seqF, client.EventCallRinging, "account="+toURI)
		peerID = offer.Call
		mustCtl(t, ctx, to, "answer", peerID)
		ev = waitFor(t, ctx, from, seqF, client.EventCallConnected, "account="+toURI)
		setup = time.Since(start)
		waitFor(t, ctx, to, seqT, client.EventCallConnected, "account="+fromURI)
		if ev.CallEvent == nil || ev.Codec != "PCMU" || !strings.HasPrefix(ev.Remote, "127.0.0.1:") || ev.SetupNS <= 0 {
			t.Errorf("call-connected = %+v, want PCMU from 127.0.0.1 with a setup time", ev.CallEvent)
		}
		return id, peerID, setup, ev
	}
	hangup := func(t *testing.T, who, other, id, otherID, whoURI, otherURI string) {
		t.Helper()
		seqW, seqO := lastSeq(t, ctx, who), lastSeq(t, ctx, other)
		mustCtl(t, ctx, who, "hangup", id)
		if e := waitFor(t, ctx, who, seqW, client.EventCallEnded, "account="+otherURI); e.Reason != "local hang-up" {
			t.Errorf("%s's call-ended reason %q, want local hang-up", whoURI, e.Reason)
		}
		if e := waitFor(t, ctx, other, seqO, client.EventCallEnded, "account="+whoURI); !strings.HasPrefix(e.Reason, "remote hang-up") {
			t.Errorf("%s's call-ended reason %q, want remote hang-up", otherURI, e.Reason)
		}
		_ = otherID
	}

	t.Run("alice-calls-bob", func(t *testing.T) {
		id, bid, setup, ev := call(t, a, b, alice, bob)
		t.Logf("SIP call setup: ctl call to call-connected %v (manager %v; INVITE to 200 OK %v)", setup, time.Duration(ev.SetupNS), time.Duration(ev.SIPSetupNS))
		var cs []struct{ ID, Phase, Account string }
		if err := json.Unmarshal([]byte(mustCtl(t, ctx, a, "calls")), &cs); err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].Phase != "connected" || cs[0].Account != bob {
			t.Errorf("alice's calls = %+v, %v, want %s to %s connected", cs, err, id, bob)
		}
		seqA := lastSeq(t, ctx, a)
		if e := waitFor(t, ctx, a, seqA, client.EventCallStats, "account="+bob); e.Stats == nil || e.Stats.Received == 0 {
			t.Errorf("call-stats = %+v, want packets received", e.CallEvent)
		}
		time.Sleep(2 * time.Second) // tone time
		hangup(t, a, b, id, bid, alice, bob)
		heardTone(t, "bob", heardB, bid, 1000, probes)
		heardTone(t, "alice", heardA, id, 1600, probes)
	})
	t.Run("bob-calls-alice", func(t *testing.T) {
		id, aid, _, _ := call(t, b, a, bob, alice)
		time.Sleep(2 * time.Second)
		hangup(t, b, a, id, aid, bob, alice)
		heardTone(t, "alice", heardA, aid, 1600, probes)
		heardTone(t, "bob", heardB, id, 1000, probes)
	})
	t.Run("decline", func(t *testing.T) {
		seqA, seqB := lastSeq(t, ctx, a), lastSeq(t, ctx, b)
		callOf(t, mustCtl(t, ctx, a, "call", bob))
		offer := waitFor(t, ctx, b, seqB, client.EventCallOffer, "account="+alice)
		mustCtl(t, ctx, b, "decline")
		if e := waitFor(t, ctx, a, seqA, client.EventCallEnded, "account="+bob); !strings.Contains(e.Reason, "declined") || !strings.Contains(e.Reason, "603") {
			t.Errorf("alice's call-ended reason %q, want declined (603)", e.Reason)
		}
		if e := waitFor(t, ctx, b, seqB, client.EventCallEnded, "account="+alice); e.Call != offer.Call || e.Reason != "declined" {
			t.Errorf("bob's call-ended reason %q, want declined", e.Reason)
		}
	})
	t.Run("cancel-while-ringing", func(t *testing.T) {
		seqA, seqB := lastSeq(t, ctx, a), lastSeq(t, ctx, b)
		id := callOf(t, mustCtl(t, ctx, a, "call", bob))
		offer := waitFor(t, ctx, b, seqB, client.EventCallOffer, "account="+alice)
		mustCtl(t, ctx, a, "hangup", id)
		if e := waitFor(t, ctx, a, seqA, client.EventCallEnded, "account="+bob); e.Call != id || e.Reason != "local hang-up" {
			t.Errorf("alice's call-ended reason %q, want local hang-up", e.Reason)
		}
		if e := waitFor(t, ctx, b, seqB, client.EventCallEnded, "account="+alice); e.Call != offer.Call || e.Reason != "peer cancelled" {
			t.Errorf("bob's call-ended reason %q, want peer cancelled", e.Reason)
		}
	})
	t.Run("offline-and-unknown", func(t *testing.T) {
		for _, tt := range []struct{ uri, says string }{
			{"sip:carol@lab.test", "404"},     // in the realm, never signed in
			{"sip:bob@elsewhere.test", "404"}, // not this server's domain
		} {
			seqA := lastSeq(t, ctx, a)
			id := callOf(t, mustCtl(t, ctx, a, "call", tt.uri))
			if e := waitFor(t, ctx, a, seqA, client.EventCallEnded, "account="+tt.uri); e.Call != id || !strings.Contains(e.Reason, tt.says) {
				t.Errorf("call to %s ended %q, want %s", tt.uri, e.Reason, tt.says)
			}
		}
	})
	t.Run("setup-time", func(t *testing.T) {
		const n = 5
		var wall, sip []time.Duration
		for i := 0; i < n; i++ {
			id, bid, setup, ev := call(t, a, b, alice, bob)
			wall, sip = append(wall, setup), append(sip, time.Duration(ev.SIPSetupNS))
			hangup(t, a, b, id, bid, alice, bob)
		}
		slices.Sort(wall)
		slices.Sort(sip)
		t.Logf("BENCH SIP account call setup, ctl call -> call-connected (loopback, through the lab SIP server, %d calls): median %v (min %v, max %v); of it INVITE -> 200 OK median %v",
			n, wall[n/2], wall[0], wall[n-1], sip[n/2])
	})
}

// sipVoiceSettings are the voice settings of a SIP account daemon that
// sends a tone of freq Hz in every call and records what it hears to the
// returned folder.
func sipVoiceSettings(t *testing.T, freq float64) (map[string]any, string) {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "heard")
	return map[string]any{
		"rtc.sip_port": json.Number(freePortRange(t, 1)), "rtc.media_ports": freePortRange(t, 20),
		"rtc.codecs": []string{"PCMU", "PCMA", "telephone-event"}, "rtc.listen": "127.0.0.1",
		"rtc.audio": "wav", "rtc.wav_in": toneWAV(t, dir, freq, 150), "rtc.wav_out": rec,
	}, rec
}

// sipVoiceDaemon runs a voice build of msmsgs (sysgen_rtc) with a SIP
// account and no .NET Messenger account.
func sipVoiceDaemon(t *testing.T, ctx context.Context, config string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	cmd := exec.CommandContext(ctx, voiceBinary(t), "daemon", "-config", config, "-ctl", sock, "-reconnect-max", "2s")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("daemon %s did not stop within 30s of an interrupt", config)
		}
		if t.Failed() {
			t.Logf("daemon %s log:\n%s", config, logs.String())
		}
	})
	return waitCtlSocket(t, config, sock, done, &logs)
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

package sip

import (
	"context"
	"encoding/base64"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
)

// TestRegistrationRefresh: with a 2 s registration the client renews
// (with a fresh AP-REQ and a new security association) every second, and
// signed traffic keeps working across the switch.
func TestRegistrationRefresh(t *testing.T) {
	l := startLab(t, nil)
	ctx := context.Background()
	ac := l.account("alice", "alice-pass")
	ac.Expires = 2 * time.Second
	alice, err := sipua.Dial(ctx, ac)
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	bob, err := sipua.Dial(ctx, l.account("bob", "bob-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	for i := 0; i < 2; i++ {
		waitEvent(t, alice, func(e sipua.Event) bool {
			if e.Type == "error" {
				t.Fatalf("refresh: %s", e.Text)
			}
			return e.Type == "registered"
		}, "a refreshed registration")
		if err := bob.SendMessage(ctx, "sip:alice@lab.test", "still there?"); err != nil {
			t.Fatalf("after refresh %d: SendMessage = %v", i, err)
		}
		waitEvent(t, alice, func(e sipua.Event) bool { return e.Type == "message" }, "the message after a refresh")
		if err := alice.SetPresence(ctx, "away"); err != nil {
			t.Fatalf("after refresh %d: SetPresence = %v", i, err)
		}
	}
}

// BenchmarkSignIn is one whole Kerberos sign-in on loopback: AS exchange,
// TGS exchange, REGISTER -> 401 -> REGISTER with the AP-REQ -> signed 200.
//
// The password variants include the string-to-key of RFC 3962 / RFC 8009
// (PBKDF2 with the KDC's iteration count: 4096 for aes-sha1, 32768 for
// aes-sha2), which dominates; a keytab skips it.
func BenchmarkSignIn(b *testing.B) {
	l := startLab(b, nil)
	l.realm.AddUser(b, "carol", "carol-pass")
	ckt := l.realm.AddService(b, "carol", "")
	for _, v := range []struct {
		name string
		cfg  func() sipua.Config
	}{
		{"password-aes256-sha384", func() sipua.Config { return l.account("alice", "alice-pass") }},
		{"password-aes256-sha1", func() sipua.Config {
			c := l.account("alice", "alice-pass")
			c.Kerberos.Enctypes = []int32{etypeID.AES256_CTS_HMAC_SHA1_96}
			return c
		}},
		{"keytab-aes256-sha384", func() sipua.Config {
			c := l.account("carol", "")
			c.Kerberos.KeytabFile = ckt
			return c
		}},
	} {
		b.Run(v.name, func(b *testing.B) { benchSignIn(b, v.cfg()) })
	}
}

func benchSignIn(b *testing.B, cfg sipua.Config) {
	ctx := context.Background()
	var as, tgs, reg time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ua, err := sipua.Dial(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		tm := ua.LastSignIn()
		as, tgs, reg = as+tm.AS, tgs+tm.TGS, reg+tm.Register
		ua.Close()
		b.StartTimer()
	}
	n := time.Duration(b.N)
	b.ReportMetric(float64((as/n).Microseconds())/1000, "AS-ms")
	b.ReportMetric(float64((tgs/n).Microseconds())/1000, "TGS-ms")
	b.ReportMetric(float64((reg/n).Microseconds())/1000, "REGISTER-ms")
}

// BenchmarkRegister measures how many Kerberos REGISTERs per second the
// service holds: parallel clients on their own connections, each REGISTER
// with a fresh AP-REQ (service ticket cached, as a real client's is)
// verified against the keytab and answered with a signed 200.
func BenchmarkRegister(b *testing.B) {
	l := startLab(b, func(c *Config) { c.RegisterRate, c.RegisterBurst = 1e9, 1e9 })
	// One user per connection: a second sign-in of a user replaces the first.
	const users = 32
	kcs := make([]*kerberos.Client, users)
	for i := range kcs {
		name := "user" + strconv.Itoa(i)
		l.realm.AddUser(b, name, "pass")
		kc, err := kerberos.Login(kerberos.Config{Realm: l.realm.Name, KDCs: []string{l.realm.KDC}, Principal: name, Password: "pass"})
		if err != nil {
			b.Fatal(err)
		}
		defer kc.Close()
		if _, err := kc.InitialToken("sip/lab.test"); err != nil { // fills the ticket cache
			b.Fatal(err)
		}
		kcs[i] = kc
	}
	var ok, next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)-1) % users
		kc, aor := kcs[i], "sip:user"+strconv.Itoa(i)+"@lab.test"
		r := dialRaw(b, l.addr)
		for pb.Next() {
			tok, err := kc.InitialToken("sip/lab.test")
			if err != nil {
				b.Error(err)
				return
			}
			m := r.req("REGISTER", "sip:lab.test", aor)
			m.Add("Expires", "900")
			m.Add("Authorization", sipae.Format(sipae.AuthOrder, sipae.Params{"qop": "auth", "realm": sipae.DefaultRealm, "targetname": "sip/lab.test",
				"gssapi-data": base64.StdEncoding.EncodeToString(tok), "version": "3"}))
			resp, err := r.do(m)
			if err != nil {
				b.Error(err)
				return
			}
			if resp.Code != 200 {
				b.Errorf("REGISTER = %d %s (%s)", resp.Code, resp.Reason, resp.Get("Warning"))
				return
			}
			ok.Add(1)
		}
	})
	b.ReportMetric(float64(ok.Load())/time.Since(start).Seconds(), "regs/s")
}

// TestTicketRenewal: dave's tickets live 8 seconds. The server grants a
// registration no longer than the ticket has left, and the client signs in
// to the realm again before the ticket ends; messages keep flowing past
// the first ticket's end.
func TestTicketRenewal(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for two ticket lifetimes (-short)")
	}
	l := startLab(t, nil)
	l.realm.AddUser(t, "dave", "dave-pass", "-maxlife", `"8 seconds"`)
	ctx := context.Background()
	dave, err := sipua.Dial(ctx, l.account("dave", "dave-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer dave.Close()
	alice, err := sipua.Dial(ctx, l.account("alice", "alice-pass"))
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	start := time.Now()
	for time.Since(start) < 12*time.Second {
		waitEvent(t, dave, func(e sipua.Event) bool {
			if e.Type == "error" {
				t.Fatalf("renewal: %s", e.Text)
			}
			return e.Type == "registered"
		}, "a renewed registration")
		t.Logf("renewed at %v: %+v", time.Since(start).Round(100*time.Millisecond), dave.LastSignIn())
		if dave.LastSignIn().AS == 0 {
			t.Errorf("renewal at %v did not sign in to the realm again", time.Since(start).Round(time.Second))
		}
	}
	if err := alice.SendMessage(ctx, "sip:dave@lab.test", "after two ticket lifetimes"); err != nil {
		t.Fatalf("SendMessage to dave after 12 s = %v", err)
	}
	waitEvent(t, dave, func(e sipua.Event) bool { return e.Type == "message" }, "the message")
	if err := dave.SetPresence(ctx, "away"); err != nil {
		t.Errorf("dave SetPresence after 12 s = %v", err)
	}
}

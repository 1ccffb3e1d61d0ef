package kerberos

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/oemkit/messenger/feature/kerberos/kdctest"
	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
)

func lab(t *testing.T) (*kdctest.Realm, string) {
	r := kdctest.Start(t)
	r.AddUser(t, "alice", "secret-pass")
	kt := r.AddService(t, "sip/lab.test", "")
	return r, kt
}

func TestLoginAndTokenAgainstMITKDC(t *testing.T) {
	r, kt := lab(t)
	for _, et := range []int32{etypeID.AES256_CTS_HMAC_SHA384_192, etypeID.AES128_CTS_HMAC_SHA256_128, etypeID.AES256_CTS_HMAC_SHA1_96, etypeID.RC4_HMAC} {
		t.Run(EnctypeName(et), func(t *testing.T) {
			cl, err := Login(Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice", Password: "secret-pass", Enctypes: []int32{et}, AllowRC4: true})
			if err != nil {
				t.Fatalf("Login(alice) = %v", err)
			}
			defer cl.Close()
			tok, key, err := cl.InitialContext("sip/lab.test")
			if err != nil {
				t.Fatalf("InitialContext = %v", err)
			}
			if key.KeyType != et {
				t.Fatalf("session key etype = %d, want %d", key.KeyType, et)
			}
			acc, err := NewAcceptor(kt, "sip/lab.test")
			if err != nil {
				t.Fatal(err)
			}
			got, err := acc.Accept(tok)
			if err != nil {
				t.Fatalf("Accept(token) = %v", err)
			}
			if got.Client != "alice@LAB.TEST" || got.Key.KeyType != et || string(got.Key.KeyValue) != string(key.KeyValue) {
				t.Errorf("Accept(token) = %q etype %d, want alice@LAB.TEST with the client's session key", got.Client, got.Key.KeyType)
			}
			if _, err := acc.Accept(tok); !errors.Is(err, ErrReplay) {
				t.Errorf("Accept(same token again) = %v, want ErrReplay", err)
			}
			bad := append([]byte(nil), tok...)
			bad[len(bad)-20] ^= 0xff
			if _, err := acc.Accept(bad); !errors.Is(err, ErrBadToken) {
				t.Errorf("Accept(corrupted token) = %v, want ErrBadToken", err)
			}
		})
	}
}

func TestAcceptorClock(t *testing.T) {
	r, kt := lab(t)
	cl, err := Login(Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice", Password: "secret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, tt := range []struct {
		name  string
		shift time.Duration
		want  error
		says  string
	}{
		{"service 6m ahead", 6 * time.Minute, ErrClockSkew, "client clock is 6m0s behind"},
		{"service 7m behind", -7 * time.Minute, ErrClockSkew, "client clock is 7m0s ahead"},
		{"service 2h ahead: ticket over", 2 * time.Hour, ErrExpired, "get a new ticket"},
		{"service 4m ahead: fine", 4 * time.Minute, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := cl.InitialToken("sip/lab.test")
			if err != nil {
				t.Fatal(err)
			}
			acc, err := NewAcceptor(kt, "sip/lab.test")
			if err != nil {
				t.Fatal(err)
			}
			acc.Now = func() time.Time { return time.Now().Add(tt.shift) }
			_, err = acc.Accept(tok)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Accept = %v, want success", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Accept = %v, want %v saying %q", err, tt.want, tt.says)
			}
		})
	}
}

func TestLoginErrors(t *testing.T) {
	r, _ := lab(t)
	r.AddUser(t, "carol", "carol-pass", "-e", "rc4-hmac:normal")
	dead := proxytest.ClosedAddr(t)
	tests := []struct {
		name string
		cfg  Config
		want error
		says string
	}{
		{"wrong password", Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice", Password: "nope"}, ErrCredentials, "check the password"},
		{"unknown user", Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "mallory", Password: "x"}, ErrUnknownUser, "does not know mallory@LAB.TEST"},
		{"kdc down", Config{Realm: r.Name, KDCs: []string{dead}, Principal: "alice", Password: "secret-pass"}, ErrUnreachable, dead},
		{"rc4-only user, rc4 refused", Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "carol", Password: "carol-pass"}, ErrEnctype, "allow_rc4"},
		{"no credential", Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice"}, ErrConfig, "password or a keytab"},
		{"no realm", Config{Principal: "alice", Password: "x"}, ErrConfig, "realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Login(tt.cfg)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("Login() = %v, want %v saying %q", err, tt.want, tt.says)
			}
		})
	}
	// carol can sign in once the device allows rc4-hmac.
	cl, err := Login(Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "carol", Password: "carol-pass", AllowRC4: true})
	if err != nil {
		t.Fatalf("Login(carol, AllowRC4) = %v", err)
	}
	cl.Close()
}

func TestSkewErrorMessage(t *testing.T) {
	err := error(&SkewError{Skew: -6*time.Minute - 400*time.Millisecond, Side: "KDC"})
	if !errors.Is(err, ErrClockSkew) || !strings.Contains(err.Error(), "KDC clock is 6m0s behind") || !strings.Contains(err.Error(), "SYSGEN_TIMESVC") {
		t.Errorf("SkewError = %v", err)
	}
}

func FuzzAccept(f *testing.F) {
	f.Add([]byte{0x60, 0x10, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00})
	f.Add([]byte("not a token"))
	// An empty keytab: every token must be refused without a panic.
	acc := &Acceptor{kt: keytab.New(), principal: types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "sip/lab.test"), Now: time.Now}
	f.Fuzz(func(t *testing.T, tok []byte) {
		if got, err := acc.Accept(tok); err == nil {
			t.Fatalf("Accept accepted %x as %q with an empty keytab", tok, got.Client)
		}
	})
}

func TestServiceTicketErrors(t *testing.T) {
	r, _ := lab(t)
	r.AddService(t, "sip/rc4only.test", "rc4-hmac:normal")
	// An old service that can only handle rc4-hmac session keys.
	r.Admin(t, "setstr sip/rc4only.test session_enctypes rc4-hmac")
	cl, err := Login(Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice", Password: "secret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, tt := range []struct {
		spn  string
		want error
		says string
	}{
		{"sip/nosuch.test", ErrUnknownUser, "does not know the service sip/nosuch.test"},
		{"sip/rc4only.test", ErrEnctype, "allow_rc4"},
	} {
		_, _, err := cl.InitialContext(tt.spn)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("InitialContext(%s) = %v, want %v saying %q", tt.spn, err, tt.want, tt.says)
		}
	}
	// With rc4-hmac allowed, the rc4-only service gets a ticket.
	cl4, err := Login(Config{Realm: r.Name, KDCs: []string{r.KDC}, Principal: "alice", Password: "secret-pass", AllowRC4: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl4.Close()
	if _, key, err := cl4.InitialContext("sip/rc4only.test"); err != nil || key.KeyType != etypeID.RC4_HMAC {
		t.Errorf("InitialContext(rc4only, AllowRC4) = etype %d, %v; want rc4-hmac", key.KeyType, err)
	}
}

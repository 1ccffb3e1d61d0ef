package kerberos

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/oemkit/messenger/internal/testenv"
)

// TestKrb5ConfParsesBack: the generated krb5.conf, read by gokrb5's
// parser, gives the realm, KDCs and enctypes the in-memory configuration
// signs in with.
func TestKrb5ConfParsesBack(t *testing.T) {
	for _, rc4 := range []bool{false, true} {
		c := Config{Realm: "LAB.TEST", KDCs: []string{"10.0.2.2:8800", "kdc2.lab.test:88"}, Principal: "alice", Password: "p", AllowRC4: rc4}
		b, err := c.Krb5Conf()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "p\n") || strings.Contains(string(b), "alice") {
			t.Errorf("krb5.conf carries the account:\n%s", b)
		}
		got, err := config.NewFromString(string(b))
		if err != nil {
			t.Fatalf("gokrb5 cannot parse the generated krb5.conf: %v\n%s", err, b)
		}
		want, _ := c.krb5conf()
		if got.LibDefaults.DefaultRealm != "LAB.TEST" || len(got.Realms) != 1 || !slices.Equal(got.Realms[0].KDC, c.KDCs) {
			t.Errorf("parsed realm %q realms %+v, want LAB.TEST with KDCs %v", got.LibDefaults.DefaultRealm, got.Realms, c.KDCs)
		}
		if !slices.Equal(got.LibDefaults.DefaultTktEnctypeIDs, want.LibDefaults.DefaultTktEnctypeIDs) || !slices.Equal(got.LibDefaults.PermittedEnctypeIDs, want.LibDefaults.PermittedEnctypeIDs) {
			t.Errorf("allow_rc4 %v: parsed enctypes %v / %v, want %v", rc4, got.LibDefaults.DefaultTktEnctypeIDs, got.LibDefaults.PermittedEnctypeIDs, want.LibDefaults.DefaultTktEnctypeIDs)
		}
		if got.LibDefaults.Clockskew != MaxClockSkew || got.LibDefaults.UDPPreferenceLimit != 1 {
			t.Errorf("clockskew %v udp_preference_limit %d, want %v and 1", got.LibDefaults.Clockskew, got.LibDefaults.UDPPreferenceLimit, MaxClockSkew)
		}
	}
	for _, bad := range []Config{
		{Realm: "", KDCs: []string{"k:88"}},
		{Realm: "LAB.TEST"},
		{Realm: "LAB.TEST }\n[x", KDCs: []string{"k:88"}},
		{Realm: "LAB.TEST", KDCs: []string{"k:88\n\tkdc = evil:88"}},
	} {
		if _, err := bad.Krb5Conf(); !errors.Is(err, ErrConfig) {
			t.Errorf("Krb5Conf(%+v) = %v, want ErrConfig", bad, err)
		}
	}
}

// TestKrb5ConfWithMITKinit: MIT's own kinit signs in to the lab realm
// with nothing but the generated file, so the file is a working krb5.conf.
func TestKrb5ConfWithMITKinit(t *testing.T) {
	kinit := testenv.Tool(t, "kinit", "apt-get install krb5-user")
	r, _ := lab(t)
	path := filepath.Join(t.TempDir(), "krb5.conf")
	c := Config{Realm: r.Name, KDCs: []string{r.KDC}}
	if err := c.WriteKrb5Conf(path); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kinit, "alice@"+r.Name)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+path, "KRB5CCNAME=FILE:"+filepath.Join(t.TempDir(), "cc"))
	cmd.Stdin = strings.NewReader("secret-pass\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("kinit with the generated krb5.conf: %v\n%s\n%s", err, out, b)
	}
	if err := (Config{Realm: r.Name, KDCs: []string{r.KDC}}).WriteKrb5Conf(filepath.Join(t.TempDir(), "no", "such", "dir", "krb5.conf")); err == nil || !strings.Contains(err.Error(), "kerberos.krb5_conf") {
		t.Errorf("WriteKrb5Conf(missing folder) = %v, want an error naming kerberos.krb5_conf", err)
	}
}

func TestEnctypeNameStable(t *testing.T) {
	for i := 0; i < 50; i++ {
		if got := EnctypeName(20); got != "aes256-cts-hmac-sha384-192" {
			t.Fatalf("EnctypeName(20) = %q, want aes256-cts-hmac-sha384-192 every time", got)
		}
	}
}

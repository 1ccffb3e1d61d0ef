// Package kdctest runs a throwaway MIT Kerberos realm (Debian krb5-kdc and
// krb5-admin-server) on 127.0.0.1 for tests: kdb5_util create, kadmin.local
// addprinc/ktadd, then krb5kdc on a free high port with its own
// configuration in a temporary directory. Missing programs skip the test on
// a laptop and fail it under CI=true (internal/testenv).
package kdctest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/wininet/proxy/proxytest"
	"github.com/oemkit/messenger/internal/testenv"
)

// Enctypes the realm gives every principal keys for. rc4-hmac is included
// so that tests can ask for it; MIT 1.20 still issues it when asked.
const Enctypes = "aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal aes256-cts-hmac-sha1-96:normal rc4-hmac:normal"

// Realm is a running KDC.
type Realm struct {
	Name string // "LAB.TEST"
	KDC  string // "127.0.0.1:port", TCP and UDP
	Dir  string // config, database, keytabs, kdc.log
	env  []string
}

// Start creates the realm LAB.TEST and runs krb5kdc until the test ends.
func Start(t testing.TB) *Realm {
	t.Helper()
	install := "apt-get install krb5-kdc krb5-admin-server"
	for _, bin := range []string{"krb5kdc", "kdb5_util", "kadmin.local"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err != nil {
				testenv.Missing(t, "%s not found: %s", bin, install)
			}
		}
	}
	dir := t.TempDir()
	port := proxytest.FreePort(t)
	r := &Realm{Name: "LAB.TEST", KDC: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir}
	krb5conf := fmt.Sprintf("[libdefaults]\n default_realm = LAB.TEST\n dns_lookup_kdc = false\n allow_weak_crypto = true\n allow_rc4 = true\n permitted_enctypes = aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128 aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 arcfour-hmac\n[realms]\n LAB.TEST = {\n  kdc = 127.0.0.1:%d\n }\n", port)
	kdcconf := fmt.Sprintf(`[kdcdefaults]
 kdc_listen = 127.0.0.1:%d
 kdc_tcp_listen = 127.0.0.1:%d
[realms]
 LAB.TEST = {
  database_name = %s/principal
  key_stash_file = %s/stash
  acl_file = %s/kadm5.acl
  supported_enctypes = %s
  max_life = 1h
  max_renewable_life = 2h
 }
[logging]
 kdc = FILE:%s/kdc.log
`, port, port, dir, dir, dir, Enctypes, dir)
	for name, body := range map[string]string{"krb5.conf": krb5conf, "kdc.conf": kdcconf, "kadm5.acl": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.env = append(os.Environ(), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"), "KRB5_KDC_PROFILE="+filepath.Join(dir, "kdc.conf"))
	r.run(t, "kdb5_util", "create", "-s", "-r", "LAB.TEST", "-P", "master-pass")
	ctx, cancel := context.WithCancel(context.Background())
	kdc := exec.CommandContext(ctx, sbin("krb5kdc"), "-n", "-r", "LAB.TEST")
	kdc.Env = r.env
	if err := kdc.Start(); err != nil {
		cancel()
		t.Fatalf("start krb5kdc: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = kdc.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", r.KDC)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("krb5kdc did not listen on %s", r.KDC)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// Env is the environment MIT tools need to find this realm.
func (r *Realm) Env() []string { return r.env }

// AddUser adds a principal with a password.
func (r *Realm) AddUser(t testing.TB, name, password string, extra ...string) {
	t.Helper()
	r.Admin(t, "addprinc -pw "+password+" "+strings.Join(extra, " ")+" "+name)
}

// AddService adds a principal with a random key and writes its keytab to
// Dir/<name with / as _>.keytab, returning the path. enctypes (e.g.
// "rc4-hmac:normal") limits its keys; empty means all of Enctypes.
func (r *Realm) AddService(t testing.TB, name, enctypes string) string {
	t.Helper()
	e := ""
	if enctypes != "" {
		e = "-e " + strings.ReplaceAll(enctypes, " ", ",") + " "
	}
	r.Admin(t, "addprinc -randkey "+e+name)
	kt := filepath.Join(r.Dir, strings.ReplaceAll(name, "/", "_")+".keytab")
	r.Admin(t, "ktadd -k "+kt+" -norandkey "+name)
	return kt
}

// Admin runs one kadmin.local query.
func (r *Realm) Admin(t testing.TB, query string) {
	t.Helper()
	r.run(t, "kadmin.local", "-r", "LAB.TEST", "-q", query)
}

func (r *Realm) run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(sbin(name), args...)
	cmd.Env = r.env
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "error") {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func sbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/sbin/" + name
}

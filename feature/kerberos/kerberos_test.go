package kerberos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/keytab"
)

// realm is a throwaway MIT Kerberos realm on 127.0.0.1.
type realm struct {
	name, kdc, dir string
	env            []string
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startKDC creates a realm with a user (password "secret-pass") and the
// service principal sip/lab.test (keytab sip.keytab), and runs krb5kdc.
func startKDC(t *testing.T) *realm {
	t.Helper()
	for _, bin := range []string{"krb5kdc", "kdb5_util", "kadmin.local"} {
		if _, err := exec.LookPath(bin); err != nil {
			if _, err := os.Stat("/usr/sbin/" + bin); err != nil {
				t.Skipf("%s not found: apt-get install krb5-kdc krb5-admin-server", bin)
			}
		}
	}
	dir := t.TempDir()
	port := freePort(t)
	r := &realm{name: "LAB.TEST", kdc: fmt.Sprintf("127.0.0.1:%d", port), dir: dir}
	krb5conf := fmt.Sprintf("[libdefaults]\n default_realm = LAB.TEST\n dns_lookup_kdc = false\n[realms]\n LAB.TEST = {\n  kdc = 127.0.0.1:%d\n }\n", port)
	kdcconf := fmt.Sprintf(`[kdcdefaults]
 kdc_listen = 127.0.0.1:%d
 kdc_tcp_listen = 127.0.0.1:%d
[realms]
 LAB.TEST = {
  database_name = %s/principal
  key_stash_file = %s/stash
  acl_file = %s/kadm5.acl
  supported_enctypes = aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal aes256-cts-hmac-sha1-96:normal
  max_life = 1h
 }
[logging]
 kdc = FILE:%s/kdc.log
`, port, port, dir, dir, dir, dir)
	for name, body := range map[string]string{"krb5.conf": krb5conf, "kdc.conf": kdcconf, "kadm5.acl": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.env = append(os.Environ(), "KRB5_CONFIG="+filepath.Join(dir, "krb5.conf"), "KRB5_KDC_PROFILE="+filepath.Join(dir, "kdc.conf"))
	sbin := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		return "/usr/sbin/" + name
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(sbin(name), args...)
		cmd.Env = r.env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("kdb5_util", "create", "-s", "-r", "LAB.TEST", "-P", "master-pass")
	run("kadmin.local", "-r", "LAB.TEST", "-q", "addprinc -pw secret-pass alice")
	run("kadmin.local", "-r", "LAB.TEST", "-q", "addprinc -randkey sip/lab.test")
	run("kadmin.local", "-r", "LAB.TEST", "-q", "ktadd -k "+filepath.Join(dir, "sip.keytab")+" sip/lab.test")
	run("kadmin.local", "-r", "LAB.TEST", "-q", "addprinc -randkey bob")
	run("kadmin.local", "-r", "LAB.TEST", "-q", "ktadd -k "+filepath.Join(dir, "bob.keytab")+" bob")
	ctx, cancel := context.WithCancel(context.Background())
	kdc := exec.CommandContext(ctx, sbin("krb5kdc"), "-n", "-r", "LAB.TEST")
	kdc.Env = r.env
	if err := kdc.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = kdc.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", r.kdc)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("krb5kdc did not listen on %s", r.kdc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

func TestLoginAndTokenAgainstMITKDC(t *testing.T) {
	r := startKDC(t)
	cl, err := Login(Config{Realm: r.name, KDCs: []string{r.kdc}, Principal: "alice", Password: "secret-pass"})
	if err != nil {
		t.Fatalf("Login(alice) = %v", err)
	}
	defer cl.Close()
	tok, err := cl.InitialToken("sip/lab.test")
	if err != nil {
		t.Fatalf("InitialToken = %v", err)
	}
	acc, err := NewAcceptor(filepath.Join(r.dir, "sip.keytab"), "sip/lab.test")
	if err != nil {
		t.Fatal(err)
	}
	who, err := acc.Accept(tok)
	if err != nil {
		t.Fatalf("Accept(token) = %v", err)
	}
	if who != "alice@LAB.TEST" {
		t.Errorf("Accept(token) = %q, want alice@LAB.TEST", who)
	}
	// A flipped byte in the ticket is refused.
	bad := append([]byte(nil), tok...)
	bad[len(bad)/2] ^= 0xff
	if _, err := acc.Accept(bad); err == nil {
		t.Error("Accept(corrupted token) = nil error")
	}

	// Keytab login.
	kcl, err := Login(Config{Realm: r.name, KDCs: []string{r.kdc}, Principal: "bob", KeytabFile: filepath.Join(r.dir, "bob.keytab")})
	if err != nil {
		t.Fatalf("Login(bob, keytab) = %v", err)
	}
	kcl.Close()
}

func TestLoginErrors(t *testing.T) {
	r := startKDC(t)
	dead := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	tests := []struct {
		name string
		cfg  Config
		want error
		says string
	}{
		{"wrong password", Config{Realm: r.name, KDCs: []string{r.kdc}, Principal: "alice", Password: "nope"}, ErrCredentials, "check the password"},
		{"unknown user", Config{Realm: r.name, KDCs: []string{r.kdc}, Principal: "mallory", Password: "x"}, ErrUnknownUser, "check the user"},
		{"kdc down", Config{Realm: r.name, KDCs: []string{dead}, Principal: "alice", Password: "secret-pass"}, ErrUnreachable, "KDC address"},
		{"no credential", Config{Realm: r.name, KDCs: []string{r.kdc}, Principal: "alice"}, ErrConfig, "password or a keytab"},
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
}

func FuzzAccept(f *testing.F) {
	f.Add([]byte{0x60, 0x10, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01, 0x00})
	f.Add([]byte("not a token"))
	// An empty keytab: every token must be refused without a panic.
	acc := &Acceptor{kt: keytab.New(), principal: "sip/lab.test"}
	f.Fuzz(func(t *testing.T, tok []byte) {
		if who, err := acc.Accept(tok); err == nil {
			t.Fatalf("Accept accepted %x as %q with an empty keytab", tok, who)
		}
	})
}

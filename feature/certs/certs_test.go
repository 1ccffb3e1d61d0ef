package certs_test

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/certs/certstest"
)

// serveTLS runs a TLS server with cert on loopback that answers "ok\n".
func serveTLS(t *testing.T, cert tls.Certificate, clientCAs *certstest.CA) string {
	t.Helper()
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
		cfg.ClientCAs = (&certs.Store{}).Pool()
		st, err := certs.Load(certs.Config{RootFiles: []string{certstest.WriteCert(t, t.TempDir(), "client-ca.pem", clientCAs.Cert)}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.ClientCAs = st.Pool()
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				c.Write([]byte("ok\n"))
			}()
		}
	}()
	return l.Addr().String()
}

func dial(st *certs.Store, addr, serverName string) error {
	d := &net.Dialer{Timeout: 20 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, st.TLSConfig(serverName))
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 3)
	_, err = c.Read(buf)
	return err
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	rootsDir := filepath.Join(dir, "device")
	os.Mkdir(rootsDir, 0o755)
	ca := certstest.NewCA(t, "OEM Device Root")
	labCA := certstest.NewCA(t, "Lab CA")
	rogue := certstest.NewCA(t, "Rogue CA")
	certstest.WriteCert(t, rootsDir, "oem.pem", ca.Cert)
	os.WriteFile(filepath.Join(rootsDir, "README"), []byte("not a cert"), 0o644)
	labFile := certstest.WriteCert(t, dir, "lab.pem", labCA.Cert)

	st, err := certs.Load(certs.Config{RootDir: rootsDir, ExtraCAFile: labFile})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if got := len(st.Roots()); got != 2 {
		t.Fatalf("len(Roots()) = %d, want 2", got)
	}
	lo := []net.IP{net.IPv4(127, 0, 0, 1)}
	good := ca.Issue(t, certstest.Leaf{CN: "login.lab", DNSNames: []string{"login.lab"}, IPs: lo})
	labGood := labCA.Issue(t, certstest.Leaf{CN: "ns.lab", DNSNames: []string{"ns.lab"}})
	expired := ca.Issue(t, certstest.Leaf{CN: "old.lab", DNSNames: []string{"old.lab"},
		NotBefore: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2021, 6, 30, 12, 0, 0, 0, time.UTC)})
	future := ca.Issue(t, certstest.Leaf{CN: "new.lab", DNSNames: []string{"new.lab"},
		NotBefore: time.Now().Add(48 * time.Hour), NotAfter: time.Now().Add(96 * time.Hour)})
	unknown := rogue.Issue(t, certstest.Leaf{CN: "evil.lab", DNSNames: []string{"evil.lab"}})

	tests := []struct {
		name       string
		cert       tls.Certificate
		serverName string
		want       error
		text       []string
	}{
		{"trusted by name", good, "login.lab", nil, nil},
		{"trusted by IP", good, "127.0.0.1", nil, nil},
		{"lab CA", labGood, "ns.lab", nil, nil},
		{"expired", expired, "old.lab", certs.ErrExpired, []string{`"old.lab"`, "expired on 2021-06-30 12:00 UTC", "old.lab"}},
		{"not yet valid", future, "new.lab", certs.ErrNotYetValid, []string{`"new.lab"`, "not valid before"}},
		{"wrong host", good, "passport.lab", certs.ErrWrongHost, []string{`"login.lab" (SAN login.lab, 127.0.0.1)`, `not valid for host "passport.lab"`}},
		{"unknown issuer", unknown, "evil.lab", certs.ErrUnknownIssuer, []string{`"evil.lab"`, `unknown issuer "Rogue CA"`, "osdesign.toml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := serveTLS(t, tc.cert, nil)
			err := dial(st, addr, tc.serverName)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("dial(%s) = %v, want success", tc.serverName, err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("dial(%s) = %v, want errors.Is %v", tc.serverName, err, tc.want)
			}
			var ve *certs.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("dial(%s) = %T, want *certs.VerifyError", tc.serverName, err)
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("dial(%s) = %q, want it to contain %q", tc.serverName, err, s)
				}
			}
		})
	}
}

func TestDeviceCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "OEM Device Root")
	devCA := certstest.NewCA(t, "OEM Device Identity CA")
	dev := devCA.Issue(t, certstest.Leaf{CN: "device-0001"})
	certFile, keyFile := certstest.WriteKeyPair(t, dir, "device", dev)
	st, err := certs.Load(certs.Config{RootFiles: []string{certstest.WriteCert(t, dir, "root.pem", ca.Cert)}, DeviceCertFile: certFile, DeviceKeyFile: keyFile})
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if st.DeviceCertificate() == nil {
		t.Fatal("DeviceCertificate() = nil")
	}
	srv := ca.Issue(t, certstest.Leaf{CN: "sip.lab", DNSNames: []string{"sip.lab"}})
	addr := serveTLS(t, srv, devCA)
	if err := dial(st, addr, "sip.lab"); err != nil {
		t.Fatalf("dial with device certificate = %v", err)
	}
	noDev, err := certs.Load(certs.Config{RootFiles: []string{filepath.Join(dir, "root.pem")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := dial(noDev, addr, "sip.lab"); err == nil {
		t.Fatal("dial without device certificate = nil, want the server to refuse")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	ca := certstest.NewCA(t, "Root")
	good := certstest.WriteCert(t, dir, "good.pem", ca.Cert)
	dev := ca.Issue(t, certstest.Leaf{CN: "dev"})
	certFile, keyFile := certstest.WriteKeyPair(t, dir, "dev", dev)
	other := ca.Issue(t, certstest.Leaf{CN: "other"})
	_, otherKey := certstest.WriteKeyPair(t, dir, "other", other)
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("hello"), 0o644)

	tests := []struct {
		name string
		cfg  certs.Config
		want string
	}{
		{"missing root dir is empty", certs.Config{RootDir: filepath.Join(dir, "nope")}, ""},
		{"missing root file", certs.Config{RootFiles: []string{filepath.Join(dir, "nope.pem")}}, "nope.pem"},
		{"missing lab CA", certs.Config{ExtraCAFile: filepath.Join(dir, "lab.pem")}, "lab.pem"},
		{"garbage", certs.Config{RootFiles: []string{good, garbage}}, "garbage.pem: no PEM CERTIFICATE block"},
		{"key in root store", certs.Config{RootFiles: []string{keyFile}}, `is "PRIVATE KEY", want CERTIFICATE`},
		{"cert without key", certs.Config{DeviceCertFile: certFile}, "needs both"},
		{"key mismatch", certs.Config{DeviceCertFile: certFile, DeviceKeyFile: otherKey}, "key matches"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := certs.Load(tc.cfg)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Load = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func FuzzParsePEM(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte("hello"))
	f.Fuzz(func(t *testing.T, b []byte) {
		certsOut, err := certs.ParsePEM(b)
		if err == nil && len(certsOut) == 0 {
			t.Errorf("ParsePEM(%q) = no certificates and no error", b)
		}
	})
}

func TestInstallRoots(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "etc/ssl/certs/device")
	ca := certstest.NewCA(t, "OEM Root")
	leaf := ca.Issue(t, certstest.Leaf{CN: "not-a-ca", NotAfter: time.Now().Add(24 * time.Hour)})
	a := certstest.WriteCert(t, src, "oem.crt", ca.Cert)
	b := certstest.WriteCert(t, src, "odd.pem", leaf.Leaf)
	got, warns, err := certs.InstallRoots(dst, []string{a, b}, time.Now())
	if err != nil {
		t.Fatalf("InstallRoots = %v", err)
	}
	if want := []string{filepath.Join(dst, "oem.pem"), filepath.Join(dst, "odd.pem")}; !slices.Equal(got, want) {
		t.Errorf("InstallRoots = %v, want %v", got, want)
	}
	var texts []string
	for _, w := range warns {
		texts = append(texts, w.String())
	}
	joined := strings.Join(texts, "\n")
	for _, s := range []string{`"not-a-ca"`, "within a year", "not a CA"} {
		if !strings.Contains(joined, s) {
			t.Errorf("InstallRoots warnings = %q, want one containing %q", joined, s)
		}
	}
	st, err := certs.Load(certs.Config{RootDir: dst})
	if err != nil || len(st.Roots()) != 2 {
		t.Fatalf("Load(installed) = %v roots, %v; want 2", len(st.Roots()), err)
	}
	if _, _, err := certs.InstallRoots(dst, []string{a, filepath.Join(src, "oem.pem")}, time.Now()); err == nil {
		t.Error("InstallRoots with a missing file = nil error")
	}
	c := certstest.WriteCert(t, t.TempDir(), "oem.pem", ca.Cert)
	if _, _, err := certs.InstallRoots(dst, []string{a, c}, time.Now()); err == nil || !strings.Contains(err.Error(), "rename one") {
		t.Errorf("InstallRoots with a name clash = %v, want a clash error", err)
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSIPSettings(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("krb-pass\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kt := filepath.Join(dir, "alice.keytab")
	if err := os.WriteFile(kt, []byte{5, 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	base := `"sip.uri":"sip:alice@lab.test","sip.server":"10.0.2.2:5060","kerberos.realm":"LAB.TEST","kerberos.kdc":"10.0.2.2:88"`
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tt := range []struct {
		name, file string
		env        map[string]string
		want       SIP    // on success
		msnp       bool   // the MSNP account is configured too
		err        string // else
	}{
		{"SIP alone, password file", `{` + base + `,"sip.password_file":"` + pw + `","kerberos.allow_rc4":true}`, nil,
			SIP{URI: "sip:alice@lab.test", Server: "10.0.2.2:5060", Realm: "LAB.TEST", KDC: "10.0.2.2:88", PasswordFile: pw, Password: "krb-pass", AllowRC4: true}, false, ""},
		{"SIP alone, keytab", `{` + base + `,"kerberos.keytab":"` + kt + `","kerberos.principal":"alice2"}`, nil,
			SIP{URI: "sip:alice@lab.test", Server: "10.0.2.2:5060", Realm: "LAB.TEST", KDC: "10.0.2.2:88", Keytab: kt, Principal: "alice2"}, false, ""},
		{"both accounts, password from the environment", `{` + base + `,"msmsgs.server":"10.0.2.2:1863","msmsgs.account":"a@b.c","msmsgs.password":"msn"}`, map[string]string{"MSMSGS_SIP_PASSWORD": "env-pass"},
			SIP{URI: "sip:alice@lab.test", Server: "10.0.2.2:5060", Realm: "LAB.TEST", KDC: "10.0.2.2:88", Password: "env-pass"}, true, ""},
		{"no KDC", `{"sip.uri":"sip:alice@lab.test","sip.server":"h:5060","kerberos.realm":"LAB.TEST","sip.password":"x"}`, nil, SIP{}, false, "kerberos.kdc is not"},
		{"no realm", `{"sip.uri":"sip:alice@lab.test","sip.server":"h:5060","kerberos.kdc":"k:88","sip.password":"x"}`, nil, SIP{}, false, "kerberos.realm is not"},
		{"no server", `{"sip.uri":"sip:alice@lab.test","kerberos.realm":"R","kerberos.kdc":"k:88","sip.password":"x"}`, nil, SIP{}, false, "sip.server is not"},
		{"bad URI", `{"sip.uri":"alice@lab.test","sip.server":"h:5060","kerberos.realm":"R","kerberos.kdc":"k:88","sip.password":"x"}`, nil, SIP{}, false, "want sip:user@domain"},
		{"no password", `{` + base + `}`, nil, SIP{}, false, "has no password: set sip.password_file"},
		{"missing keytab", `{` + base + `,"kerberos.keytab":"/nonexistent/kt"}`, nil, SIP{}, false, "kerberos.keytab"},
		{"KDC without port", `{"sip.uri":"sip:alice@lab.test","sip.server":"h:5060","kerberos.realm":"R","kerberos.kdc":"kdc","sip.password":"x"}`, nil, SIP{}, false, "kerberos.kdc"},
		{"allow_rc4 not a bool", `{` + base + `,"kerberos.allow_rc4":"yes"}`, nil, SIP{}, false, "kerberos.allow_rc4"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s Settings
			err := s.ParseFile([]byte(tt.file))
			if err == nil {
				err = s.Validate(env(tt.env), testLang())
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFile+Validate = %v, want an error saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFile+Validate = %v", err)
			}
			if diff := cmp.Diff(tt.want, s.SIP); diff != "" {
				t.Errorf("SIP settings (-want +got):\n%s", diff)
			}
			if (s.Account != "") != tt.msnp || s.Ctl == "" {
				t.Errorf("account %q ctl %q; want the MSNP account %v and a control socket", s.Account, s.Ctl, tt.msnp)
			}
		})
	}
	// Without a SIP account the MSNP account is still required.
	var s Settings
	if err := s.ParseFile([]byte(`{"msmsgs.server":"h:1863"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(env(nil), testLang()); err == nil {
		t.Error("Validate(no account at all) = nil, want the no-account error")
	}
	// The krb5.conf path: the setting, else the state folder, else none.
	for _, tt := range []struct {
		s    Settings
		want string
	}{
		{Settings{SIP: SIP{Krb5Conf: "/etc/krb5.conf"}, StateDir: "/var/lib/msmsgs"}, "/etc/krb5.conf"},
		{Settings{StateDir: "/var/lib/msmsgs"}, "/var/lib/msmsgs/krb5.conf"},
		{Settings{}, ""},
	} {
		if got := tt.s.Krb5ConfPath(); got != tt.want {
			t.Errorf("Krb5ConfPath(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

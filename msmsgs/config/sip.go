package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/settings"
)

// SIP is the second account: a SIP Communications Service account that
// signs in with Kerberos ([MS-SIPAE]). It is configured when URI is set;
// it may stand alone or beside the .NET Messenger (MSNP) account.
type SIP struct {
	URI          string // sip.uri: address of record, sip:user@domain
	Server       string // sip.server: the SIP server's host:port (TCP)
	Password     string // sip.password (labs: prefer sip.password_file or MSMSGS_SIP_PASSWORD)
	PasswordFile string // sip.password_file

	Realm     string // kerberos.realm, e.g. LAB.EXAMPLE
	KDC       string // kerberos.kdc: the realm's KDC, host:port
	Principal string // kerberos.principal: default the user part of sip.uri
	Keytab    string // kerberos.keytab: sign in with a key instead of a password
	AllowRC4  bool   // kerberos.allow_rc4: accept rc4-hmac where a realm offers nothing better
	Krb5Conf  string // kerberos.krb5_conf: where the generated krb5.conf goes
}

// Configured reports whether a SIP account is set up.
func (s *SIP) Configured() bool { return s.URI != "" }

// parseSIP reads the sip.* and kerberos.* keys.
func (s *SIP) parse(f *settings.File) []error {
	var errs []error
	text := func(dst *string, v string, err error) {
		switch {
		case err == nil:
			*dst = v
		case !settings.IsUnset(err):
			errs = append(errs, err)
		}
	}
	v, err := f.Text("sip.uri")
	text(&s.URI, v, err)
	v, err = f.HostPort("sip.server")
	text(&s.Server, v, err)
	v, err = f.Text("sip.password")
	text(&s.Password, v, err)
	v, err = f.Text("sip.password_file")
	text(&s.PasswordFile, v, err)
	v, err = f.Text("kerberos.realm")
	text(&s.Realm, v, err)
	v, err = f.HostPort("kerberos.kdc")
	text(&s.KDC, v, err)
	v, err = f.Text("kerberos.principal")
	text(&s.Principal, v, err)
	v, err = f.Text("kerberos.keytab")
	text(&s.Keytab, v, err)
	v, err = f.Text("kerberos.krb5_conf")
	text(&s.Krb5Conf, v, err)
	if b, err := f.Bool("kerberos.allow_rc4"); err == nil {
		s.AllowRC4 = b
	} else if !settings.IsUnset(err) {
		errs = append(errs, err)
	}
	return errs
}

// validate checks a configured SIP account and resolves its password
// (sip.password_file, else MSMSGS_SIP_PASSWORD, else sip.password) unless
// it signs in with a keytab. Each error names the setting to fix.
func (s *SIP) validate(getenv func(string) string) error {
	user, domain, ok := strings.Cut(strings.TrimPrefix(s.URI, "sip:"), "@")
	if !strings.HasPrefix(s.URI, "sip:") || !ok || user == "" || domain == "" || strings.ContainsAny(s.URI, " \t<>;\"") {
		return fmt.Errorf("sip.uri %q: want sip:user@domain", s.URI)
	}
	if s.Server == "" {
		return errors.New("sip.uri is set but sip.server is not: set it to the SIP server's host:port")
	}
	if _, _, err := net.SplitHostPort(s.Server); err != nil {
		return fmt.Errorf("sip.server %q: want host:port", s.Server)
	}
	if s.Realm == "" {
		return errors.New("sip.uri is set but kerberos.realm is not: set it to the Kerberos realm (e.g. LAB.EXAMPLE)")
	}
	if s.KDC == "" {
		return fmt.Errorf("sip.uri is set but kerberos.kdc is not: set it to the host:port of a KDC of %s", s.Realm)
	}
	if _, _, err := net.SplitHostPort(s.KDC); err != nil {
		return fmt.Errorf("kerberos.kdc %q: want host:port", s.KDC)
	}
	if s.Keytab != "" {
		if _, err := os.Stat(s.Keytab); err != nil {
			return fmt.Errorf("kerberos.keytab: %v", err)
		}
		return nil
	}
	switch {
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return fmt.Errorf("sip.password_file: %v", err)
		}
		s.Password = strings.TrimRight(string(b), "\r\n")
	case getenv("MSMSGS_SIP_PASSWORD") != "":
		s.Password = getenv("MSMSGS_SIP_PASSWORD")
	}
	if s.Password == "" {
		return fmt.Errorf("the SIP account %s has no password: set sip.password_file (or MSMSGS_SIP_PASSWORD), or kerberos.keytab", s.URI)
	}
	return nil
}

// Kerberos is the Kerberos configuration of the SIP account.
func (s *SIP) Kerberos() kerberos.Config {
	return kerberos.Config{Realm: s.Realm, KDCs: []string{s.KDC}, Principal: s.Principal,
		Password: s.Password, KeytabFile: s.Keytab, AllowRC4: s.AllowRC4}
}

// Krb5ConfPath is where the generated krb5.conf goes: kerberos.krb5_conf,
// else krb5.conf in msmsgs.state_dir, else "" (none is written).
func (s *Settings) Krb5ConfPath() string {
	if s.SIP.Krb5Conf != "" {
		return s.SIP.Krb5Conf
	}
	if s.StateDir != "" {
		return filepath.Join(s.StateDir, "krb5.conf")
	}
	return ""
}

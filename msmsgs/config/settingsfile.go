package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/oemkit/messenger/feature/settings"
	"github.com/oemkit/messenger/feature/stdio"
)

// ParseFile applies the msmsgs.* keys of the device settings file and the
// console.encoding key of SYSGEN_STDIOA, read through the device's typed
// settings loader (feature/settings), so each key has the type its manifest
// declares. Other features' keys are ignored; an unknown msmsgs.* key is an
// error, so typos are caught.
func (s *Settings) ParseFile(data []byte) error {
	f, err := settings.Parse("the settings file", data)
	if err != nil {
		return err
	}
	var errs []error
	text := func(dst *string) func(string, error) {
		return func(v string, err error) {
			switch {
			case err == nil:
				*dst = v
			case !settings.IsUnset(err):
				errs = append(errs, err)
			}
		}
	}
	flag := func(dst *bool) func(bool, error) {
		return func(v bool, err error) {
			switch {
			case err == nil:
				*dst = v
			case !settings.IsUnset(err):
				errs = append(errs, err)
			}
		}
	}
	text(&s.Server)(f.HostPort("msmsgs.server"))
	text(&s.Nexus)(f.Text("msmsgs.nexus"))
	text(&s.Account)(f.Text("msmsgs.account"))
	text(&s.Password)(f.Text("msmsgs.password"))
	text(&s.PasswordFile)(f.Text("msmsgs.password_file"))
	text(&s.CAFile)(f.Text("msmsgs.ca_file"))
	text(&s.Proxy)(f.Text("msmsgs.proxy"))
	text(&s.ProxyMode)(f.Text("msmsgs.proxy_mode"))
	text(&s.Gateway)(f.Text("msmsgs.gateway"))
	text(&s.CertDir)(f.Text("msmsgs.cert_dir"))
	text(&s.Locale)(f.Text("msmsgs.locale"))
	text(&s.LangDir)(f.Text("msmsgs.lang_dir"))
	text(&s.StateDir)(f.Text("msmsgs.state_dir"))
	text(&s.Ctl)(f.Text("msmsgs.ctl"))
	text(&s.Status)(f.Text("msmsgs.status"))
	flag(&s.InsecureHTTP)(f.Bool("msmsgs.insecure_http"))
	text(&s.Downloads)(f.Text("msmsgs.downloads"))
	if p, err := f.PortRange("msmsgs.ft_ports"); err == nil {
		s.FTPorts = p.String()
	} else if !settings.IsUnset(err) {
		errs = append(errs, err)
	}
	text(&s.FTMaxSize)(f.Text("msmsgs.ft_max_size"))
	text(&s.FTAddress)(f.Text("msmsgs.ft_address"))
	text(&s.FTSendRate)(f.Text("msmsgs.ft_send_rate"))
	flag(&s.FTAutoAccept)(f.Bool("msmsgs.ft_auto_accept"))
	text(&s.ConsoleEncoding)(f.Text(stdio.Setting))
	errs = append(errs, s.SIP.parse(f)...)
	read := f.Reads()
	for _, k := range f.Keys() {
		if _, ok := read[k]; !ok && strings.HasPrefix(k, "msmsgs.") {
			errs = append(errs, fmt.Errorf("unknown key %q (rebuild the image with a matching sysgen, or remove the key)", k))
		}
	}
	return errors.Join(errs...)
}

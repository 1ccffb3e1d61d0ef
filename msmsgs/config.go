package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// settings is the msmsgs configuration: the device settings file's msmsgs.*
// keys, overridden by flags.
type settings struct {
	Server       string // msmsgs.server: dispatch host:port
	Nexus        string // msmsgs.nexus: Passport nexus URL
	Account      string // msmsgs.account
	Password     string // msmsgs.password (prefer a file or MSMSGS_PASSWORD)
	PasswordFile string // msmsgs.password_file
	CAFile       string // msmsgs.ca_file: extra trusted CA (labs)
	Proxy        string // msmsgs.proxy: socks5://, socks4://, socks4a:// or http:// proxy URL
	ProxyMode    string // msmsgs.proxy_mode: with an http:// proxy: auto, connect or gateway
	Gateway      string // msmsgs.gateway: MSN HTTP gateway URL (default http://<server host>/gateway/gateway.dll)
	CertDir      string // msmsgs.cert_dir: device root certificates (default /etc/ssl/certs/device)
	Locale       string // msmsgs.locale: e.g. en-US (strings come from msgslang)
	LangDir      string // msmsgs.lang_dir: msgslang locale files (default /usr/share/msgslang)
	StateDir     string // msmsgs.state_dir
	Ctl          string // msmsgs.ctl: control socket path
	Status       string // msmsgs.status: status after sign-in
	InsecureHTTP bool   // msmsgs.insecure_http: lab-only plain-HTTP Passport

	// File transfer.
	Downloads    string // msmsgs.downloads: received files (default STATE_DIR/downloads)
	FTPorts      string // msmsgs.ft_ports: MSNFTP listening ports (default 6891-6900)
	FTMaxSize    string // msmsgs.ft_max_size: largest file accepted (bytes, K/M/G suffix; 0 = free space only)
	FTAddress    string // msmsgs.ft_address: IP address advertised to receivers (default automatic)
	FTSendRate   string // msmsgs.ft_send_rate: per-transfer send limit in bytes/s (0 = unlimited)
	FTAutoAccept bool   // msmsgs.ft_auto_accept: accept offered files without asking

	// ConsoleEncoding is SYSGEN_STDIOA's console.encoding setting: utf-8,
	// ascii or auto (default ascii).
	ConsoleEncoding string
	enc             stdio.Encoding // resolved ConsoleEncoding

	ConfigFile string
	Verbose    bool

	// Test hooks (not settings): fast timers.
	timers timers
}

type timers struct {
	ping, pingTimeout, backoffMin, backoffMax time.Duration
}

// settingKeys maps settings-file keys to fields.
func (s *settings) field(key string) (*string, *bool) {
	switch key {
	case "msmsgs.server":
		return &s.Server, nil
	case "msmsgs.nexus":
		return &s.Nexus, nil
	case "msmsgs.account":
		return &s.Account, nil
	case "msmsgs.password":
		return &s.Password, nil
	case "msmsgs.password_file":
		return &s.PasswordFile, nil
	case "msmsgs.ca_file":
		return &s.CAFile, nil
	case "msmsgs.proxy":
		return &s.Proxy, nil
	case "msmsgs.proxy_mode":
		return &s.ProxyMode, nil
	case "msmsgs.gateway":
		return &s.Gateway, nil
	case "msmsgs.cert_dir":
		return &s.CertDir, nil
	case "msmsgs.locale":
		return &s.Locale, nil
	case "msmsgs.lang_dir":
		return &s.LangDir, nil
	case "msmsgs.state_dir":
		return &s.StateDir, nil
	case "msmsgs.ctl":
		return &s.Ctl, nil
	case "msmsgs.status":
		return &s.Status, nil
	case "msmsgs.insecure_http":
		return nil, &s.InsecureHTTP
	case "msmsgs.downloads":
		return &s.Downloads, nil
	case "msmsgs.ft_ports":
		return &s.FTPorts, nil
	case "msmsgs.ft_max_size":
		return &s.FTMaxSize, nil
	case "msmsgs.ft_address":
		return &s.FTAddress, nil
	case "msmsgs.ft_send_rate":
		return &s.FTSendRate, nil
	case "msmsgs.ft_auto_accept":
		return nil, &s.FTAutoAccept
	}
	return nil, nil
}

// maxSettingsFile bounds the settings file size.
const maxSettingsFile = 1 << 20

// parseSettingsFile applies the msmsgs.* keys of a flat JSON settings
// object and the console.encoding key of SYSGEN_STDIOA. Other features'
// keys are ignored; unknown msmsgs.* keys are errors so typos are caught.
func (s *settings) parseSettingsFile(data []byte) error {
	if len(data) > maxSettingsFile {
		return fmt.Errorf("larger than %d bytes", maxSettingsFile)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for k, v := range m {
		if k == stdio.Setting {
			switch x := v.(type) {
			case string:
				s.ConsoleEncoding = x
			case nil:
			default:
				return fmt.Errorf("key %q: want a string (utf-8, ascii or auto)", k)
			}
			continue
		}
		if !strings.HasPrefix(k, "msmsgs.") {
			continue
		}
		sp, bp := s.field(k)
		if sp == nil && bp == nil {
			return fmt.Errorf("unknown key %q", k)
		}
		var str string
		switch x := v.(type) {
		case string:
			str = x
		case bool:
			str = strconv.FormatBool(x)
		case float64:
			str = strconv.FormatFloat(x, 'f', -1, 64)
		case nil:
			continue
		default:
			return fmt.Errorf("key %q: want a string, number or boolean", k)
		}
		if sp != nil {
			*sp = str
			continue
		}
		b, err := strconv.ParseBool(str)
		if err != nil {
			return fmt.Errorf("key %q: want true or false", k)
		}
		*bp = b
	}
	return nil
}

// usageError is a command-line mistake: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// settingsFlags registers the daemon/console flags on fs, storing into f.
func settingsFlags(fs *flag.FlagSet, f *settings) {
	fs.StringVar(&f.Server, "server", "", text("flag.server"))
	fs.StringVar(&f.Nexus, "nexus", "", text("flag.nexus"))
	fs.StringVar(&f.Account, "account", "", text("flag.account"))
	fs.StringVar(&f.PasswordFile, "password-file", "", text("flag.password-file"))
	fs.StringVar(&f.CAFile, "ca", "", text("flag.ca"))
	fs.StringVar(&f.Ctl, "ctl", "", text("flag.ctl"))
	fs.StringVar(&f.ConfigFile, "config", "", text("flag.config"))
	fs.StringVar(&f.Status, "status", "", text("flag.status"))
	fs.StringVar(&f.Proxy, "proxy", "", text("flag.proxy"))
	fs.StringVar(&f.ProxyMode, "proxy-mode", "", text("flag.proxy-mode"))
	fs.StringVar(&f.Gateway, "gateway", "", text("flag.gateway"))
	fs.BoolVar(&f.InsecureHTTP, "insecure-http", false, text("flag.insecure-http"))
	fs.BoolVar(&f.Verbose, "v", false, text("flag.v"))
	fs.StringVar(&f.Downloads, "downloads", "", text("flag.downloads"))
	fs.StringVar(&f.FTPorts, "ft-ports", "", text("flag.ft-ports"))
	fs.StringVar(&f.FTMaxSize, "ft-max-size", "", text("flag.ft-max-size"))
	fs.StringVar(&f.FTAddress, "ft-address", "", text("flag.ft-address"))
	fs.StringVar(&f.FTSendRate, "ft-send-rate", "", text("flag.ft-send-rate"))
	fs.BoolVar(&f.FTAutoAccept, "ft-auto-accept", false, text("flag.ft-auto-accept"))
	fs.StringVar(&f.Locale, "locale", "", text("flag.locale"))
	fs.StringVar(&f.LangDir, "lang-dir", "", text("flag.lang-dir"))
	fs.DurationVar(&f.timers.ping, "keepalive", 45*time.Second, text("flag.keepalive"))
	fs.DurationVar(&f.timers.backoffMax, "reconnect-max", 2*time.Minute, text("flag.reconnect-max"))
}

// parseSettings parses daemon/console flags over the settings file.
func parseSettings(name string, args []string, out io.Writer) (*settings, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	var f settings
	settingsFlags(fs, &f)
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	s := &settings{}
	if f.ConfigFile != "" {
		data, err := os.ReadFile(f.ConfigFile)
		if err == nil {
			err = s.parseSettingsFile(data)
		}
		if err != nil {
			return nil, errors.New(text("err.config", f.ConfigFile, err))
		}
	}
	// Flags override the file.
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "server":
			s.Server = f.Server
		case "nexus":
			s.Nexus = f.Nexus
		case "account":
			s.Account = f.Account
		case "password-file":
			s.PasswordFile = f.PasswordFile
		case "ca":
			s.CAFile = f.CAFile
		case "ctl":
			s.Ctl = f.Ctl
		case "status":
			s.Status = f.Status
		case "proxy":
			s.Proxy = f.Proxy
		case "proxy-mode":
			s.ProxyMode = f.ProxyMode
		case "gateway":
			s.Gateway = f.Gateway
		case "insecure-http":
			s.InsecureHTTP = f.InsecureHTTP
		case "downloads":
			s.Downloads = f.Downloads
		case "ft-ports":
			s.FTPorts = f.FTPorts
		case "ft-max-size":
			s.FTMaxSize = f.FTMaxSize
		case "ft-address":
			s.FTAddress = f.FTAddress
		case "ft-send-rate":
			s.FTSendRate = f.FTSendRate
		case "ft-auto-accept":
			s.FTAutoAccept = f.FTAutoAccept
		case "locale":
			s.Locale = f.Locale
		case "lang-dir":
			s.LangDir = f.LangDir
		}
	})
	s.ConfigFile, s.Verbose, s.timers = f.ConfigFile, f.Verbose, f.timers
	if s.timers.backoffMax > 0 && s.timers.backoffMax < time.Second {
		s.timers.backoffMin = s.timers.backoffMax / 4
	} else {
		s.timers.backoffMin = min(time.Second, s.timers.backoffMax)
	}
	return s, nil
}

// preSettings returns, best effort, the settings that choose the locale
// and console encoding (msmsgs.locale, msmsgs.lang_dir, console.encoding,
// -v) before the flags are parsed for real: parseSettings reports errors,
// in that locale.
func preSettings(name string, args []string) *settings {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f settings
	settingsFlags(fs, &f)
	_ = fs.Parse(args) // flags before an error are set
	s := &settings{}
	if f.ConfigFile != "" {
		if data, err := os.ReadFile(f.ConfigFile); err == nil {
			_ = s.parseSettingsFile(data)
		}
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "locale":
			s.Locale = f.Locale
		case "lang-dir":
			s.LangDir = f.LangDir
		}
	})
	s.Verbose = f.Verbose
	return s
}

// validate checks the settings and resolves the password. getenv is
// os.Getenv in production.
func (s *settings) validate(getenv func(string) string) error {
	if s.Server == "" {
		return errors.New(text("err.no-server"))
	}
	if s.Account == "" {
		return errors.New(text("err.no-account"))
	}
	switch {
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return errors.New(text("err.password", err))
		}
		s.Password = strings.TrimRight(string(b), "\r\n")
	case getenv("MSMSGS_PASSWORD") != "":
		s.Password = getenv("MSMSGS_PASSWORD")
	}
	if s.Password == "" {
		return errors.New(text("err.no-password"))
	}
	if s.Status != "" {
		if _, err := parseStatus(s.Status); err != nil {
			return err
		}
	}
	if s.Ctl == "" {
		if s.StateDir != "" {
			s.Ctl = s.StateDir + "/ctl.sock"
		} else {
			s.Ctl = defaultCtl
		}
	}
	return nil
}

// defaultCtl is the control socket path when none is configured.
const defaultCtl = "/run/msmsgs.sock"

// statusWords maps user words to status codes.
var statusWords = map[string]msnp.Status{
	"online": msnp.StatusOnline, "busy": msnp.StatusBusy, "idle": msnp.StatusIdle,
	"brb": msnp.StatusBeRightBack, "away": msnp.StatusAway, "phone": msnp.StatusOnThePhone,
	"lunch": msnp.StatusOutToLunch, "hidden": msnp.StatusHidden, "invisible": msnp.StatusHidden,
	"appear-offline": msnp.StatusHidden,
}

// parseStatus accepts a word (busy) or a code (BSY).
func parseStatus(s string) (msnp.Status, error) {
	if st, ok := statusWords[strings.ToLower(s)]; ok {
		return st, nil
	}
	if st := msnp.Status(strings.ToUpper(s)); st.Settable() {
		return st, nil
	}
	return "", errors.New(text("err.status", s))
}

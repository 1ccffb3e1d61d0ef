// Package config is the msmsgs configuration: the msmsgs.* keys of the
// device settings file, overridden by the daemon and console flags, then
// validated in their own step.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/settings"
	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// Settings is the msmsgs configuration: the device settings file's msmsgs.*
// keys, overridden by flags.
type Settings struct {
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

	// RTC is SYSGEN_RTC's rtc.* keys: voice calls (rtc.go).
	RTC RTC

	// ConsoleEncoding is SYSGEN_STDIOA's console.encoding setting: utf-8,
	// ascii or auto (default ascii).
	ConsoleEncoding string

	ConfigFile string
	Verbose    bool

	// AwaitSignIn lets a server without an account pass Validate: the
	// daemon then waits for a sign-in (msmsgs ctl signin, the window).
	// Set by the program for the daemon, not a settings key.
	AwaitSignIn bool

	// Timers of the connection (flags -keepalive and -reconnect-max).
	Timers Timers

	// SIP is the SIP Communications Service account (sip.*, kerberos.*).
	SIP SIP
}

// Timers are the keepalive and reconnection timers.
type Timers struct {
	Ping, PingTimeout, BackoffMin, BackoffMax time.Duration
}

// UsageError is a command-line mistake: exit status 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Flags registers the daemon/console flags on fs, storing into f, with
// their help in the locale of l.
func Flags(fs *flag.FlagSet, f *Settings, l *msgslang.Catalog) {
	text := l.Text
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
	fs.DurationVar(&f.Timers.Ping, "keepalive", 45*time.Second, text("flag.keepalive"))
	fs.DurationVar(&f.Timers.BackoffMax, "reconnect-max", 2*time.Minute, text("flag.reconnect-max"))
}

// Parse parses daemon/console flags over the settings file; l gives the
// flag help and error texts.
func Parse(name string, args []string, out io.Writer, l *msgslang.Catalog) (*Settings, error) {
	text := l.Text
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	var f Settings
	Flags(fs, &f, l)
	if err := fs.Parse(args); err != nil {
		return nil, UsageError{err}
	}
	if fs.NArg() > 0 {
		return nil, UsageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	s := &Settings{}
	if f.ConfigFile != "" {
		data, err := os.ReadFile(f.ConfigFile)
		if err == nil {
			err = s.ParseFile(data)
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
	s.ConfigFile, s.Verbose, s.Timers = f.ConfigFile, f.Verbose, f.Timers
	if s.Timers.BackoffMax > 0 && s.Timers.BackoffMax < time.Second {
		s.Timers.BackoffMin = s.Timers.BackoffMax / 4
	} else {
		s.Timers.BackoffMin = min(time.Second, s.Timers.BackoffMax)
	}
	return s, nil
}

// Pre returns, best effort, the settings that choose the locale
// and console encoding (msmsgs.locale, msmsgs.lang_dir, console.encoding,
// -v) before the flags are parsed for real: Parse reports errors, in that
// locale. l gives the flag texts, which Pre does not show (the built-in
// table is enough).
func Pre(name string, args []string, l *msgslang.Catalog) *Settings {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var f Settings
	Flags(fs, &f, l)
	_ = fs.Parse(args) // flags before an error are set
	s := &Settings{}
	if f.ConfigFile != "" {
		if data, err := os.ReadFile(f.ConfigFile); err == nil {
			_ = s.ParseFile(data)
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

// Validate checks the settings and resolves the password. getenv is
// os.Getenv in production; l gives the error texts.
func (s *Settings) Validate(getenv func(string) string, l *msgslang.Catalog) error {
	text := l.Text
	if s.SIP.Configured() {
		if err := s.SIP.validate(getenv); err != nil {
			return err
		}
	}
	if s.SIP.Configured() && s.Account == "" {
		// A SIP account alone: no .NET Messenger account to check.
		if s.Status != "" {
			if _, err := ctlproto.ParseStatus(s.Status, l); err != nil {
				return err
			}
		}
		if s.Ctl = s.CtlSocket(); s.Ctl == "" {
			s.Ctl = DefaultCtl
		}
		return nil
	}
	if s.Server == "" {
		return errors.New(text("err.no-server"))
	}
	switch {
	case s.Account == "" && s.AwaitSignIn && s.PasswordFile == "" && s.Password == "":
		// No account yet: the password comes with the sign-in.
	case s.Account == "":
		return errors.New(text("err.no-account"))
	case s.PasswordFile != "":
		b, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return errors.New(text("err.password", err))
		}
		s.Password = strings.TrimRight(string(b), "\r\n")
	case getenv("MSMSGS_PASSWORD") != "":
		s.Password = getenv("MSMSGS_PASSWORD")
	}
	if s.Password == "" && s.Account != "" {
		return errors.New(text("err.no-password"))
	}
	if s.Status != "" {
		if _, err := ctlproto.ParseStatus(s.Status, l); err != nil {
			return err
		}
	}
	if err := s.RTC.Validate(); err != nil {
		return err
	}
	if s.Ctl = s.CtlSocket(); s.Ctl == "" {
		s.Ctl = DefaultCtl
	}
	return nil
}

// CtlSocket is the control socket the settings name: msmsgs.ctl, else
// ctl.sock in msmsgs.state_dir, else "" (then the daemon uses DefaultCtl).
func (s *Settings) CtlSocket() string {
	if s.Ctl == "" && s.StateDir != "" {
		return s.StateDir + "/ctl.sock"
	}
	return s.Ctl
}

// DefaultCtl is the control socket path when none is configured.
const DefaultCtl = "/run/msmsgs.sock"

// DeviceSettings is the settings file the image carries (sysgen writes it).
const DeviceSettings = settings.Path

// DownloadsDir is msmsgs.downloads or its default.
func (s *Settings) DownloadsDir() string {
	if s.Downloads != "" {
		return s.Downloads
	}
	if s.StateDir != "" {
		return filepath.Join(s.StateDir, "downloads")
	}
	return DefaultDownloads
}

// DefaultDownloads is the downloads folder when no state directory is set.
const DefaultDownloads = "/var/lib/msmsgs/downloads"

// Encoding returns the console encoding of the console.encoding
// setting (utf-8, ascii or auto; getenv is read for auto; default ascii,
// the SYSGEN_STDIOA item's default).
func (s *Settings) Encoding(getenv func(string) string) (stdio.Encoding, error) {
	v := s.ConsoleEncoding
	if v == "" {
		v = "ascii"
	}
	enc, err := stdio.Detect(v, getenv)
	if err != nil {
		return stdio.ASCII, err
	}
	return enc, nil
}

// Lang loads the locale of the settings (msmsgs.locale, files in
// msmsgs.lang_dir or msgslang.DefaultDir) over the built-in table
// english. It never fails: a missing locale logs one warning on log and
// shows english.
func (s *Settings) Lang(english map[string]string, log *slog.Logger) *msgslang.Catalog {
	dir := s.LangDir
	if dir == "" {
		dir = msgslang.DefaultDir
	}
	return msgslang.Load(dir, s.Locale, msgslang.Options{Fallback: english, Logger: log})
}

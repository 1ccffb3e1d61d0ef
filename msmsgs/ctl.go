package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// runCtl is `msmsgs ctl`: it sends one command to the daemon and prints
// the replies: results and events as JSON lines on stdout.
func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, l *msgslang.Catalog) error {
	text := l.Text
	fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, text("usage.ctl")) }
	path := fs.String("ctl", "", text("flag.ctl"))
	cfg := fs.String("config", "", text("flag.config"))
	if err := fs.Parse(args); err != nil {
		return config.UsageError{Err: err}
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" {
		fmt.Fprint(stdout, text("usage.ctl"))
		if len(rest) == 0 {
			return config.UsageError{Err: errors.New("ctl: no command")}
		}
		return nil
	}
	if !ctlproto.ValidName(rest[0]) {
		return config.UsageError{Err: errors.New(text("err.unknown-cmd", rest[0]))}
	}
	sock := *path
	if sock == "" && *cfg == "" {
		// On a device the daemon runs with the image's settings file;
		// find its socket the same way.
		if _, err := os.Stat(config.DeviceSettings); err == nil {
			*cfg = config.DeviceSettings
		}
	}
	if sock == "" && *cfg != "" {
		var s config.Settings
		data, err := os.ReadFile(*cfg)
		if err == nil {
			err = s.ParseFile(data)
		}
		if err != nil {
			return errors.New(text("err.config", *cfg, err))
		}
		sock = s.CtlSocket()
	}
	if sock == "" {
		sock = getenv("MSMSGS_CTL")
	}
	if sock == "" {
		sock = config.DefaultCtl
	}
	if rest[0] == "sendfile" && len(rest) > 1 {
		// The daemon runs elsewhere: send it an absolute path.
		if abs, err := filepath.Abs(rest[len(rest)-1]); err == nil {
			rest = append(append([]string(nil), rest[:len(rest)-1]...), abs)
		}
	}
	return ctlproto.Do(ctx, sock, rest, stdout, l)
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
	msdaemon "github.com/oemkit/messenger/msmsgs/daemon"
)

// runCtl is `msmsgs ctl` without a standard input (see runCtlInput).
func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, l *msgslang.Catalog) error {
	return runCtlInput(ctx, args, nil, stdout, stderr, getenv, l)
}

// runCtlInput is `msmsgs ctl`: it sends one command to the daemon and
// prints the replies: results and events as JSON lines on stdout. signin
// reads the password from stdin (a prompt without echo on a terminal).
func runCtlInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, l *msgslang.Catalog) error {
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
	if rest[0] == "signin" && len(rest) == 2 {
		pw, err := readPassword(stdin, stderr, rest[1], l)
		if err != nil {
			return err
		}
		return ctlSignin(ctx, sock, rest, pw, stdout, l)
	}
	return ctlproto.Do(ctx, sock, rest, stdout, l)
}

// readPassword reads the signin password: the first line of stdin, or
// typed at a prompt without echo when stdin is a terminal.
func readPassword(stdin io.Reader, stderr io.Writer, account string, l *msgslang.Catalog) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, l.Text("ctl.password-prompt", account))
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", errors.New(l.Text("err.signin-password"))
		}
		return checkPassword(string(b), l)
	}
	if stdin == nil {
		return "", errors.New(l.Text("err.signin-password"))
	}
	br := bufio.NewReaderSize(stdin, 512)
	pw, err := msdaemon.ReadPassword(br)
	if err != nil && !(errors.Is(err, io.EOF) && pw != "") {
		if errors.Is(err, msdaemon.ErrPasswordLong) {
			return "", errors.New(l.Text("err.signin-password-long", msdaemon.MaxPassword))
		}
		return "", errors.New(l.Text("err.signin-password"))
	}
	return checkPassword(strings.TrimRight(pw, "\r"), l)
}

func checkPassword(pw string, l *msgslang.Catalog) (string, error) {
	switch {
	case pw == "":
		return "", errors.New(l.Text("err.signin-password"))
	case len(pw) > msdaemon.MaxPassword:
		return "", errors.New(l.Text("err.signin-password-long", msdaemon.MaxPassword))
	case strings.ContainsAny(pw, "\n\r"):
		return "", errors.New(l.Text("err.signin-password"))
	}
	return pw, nil
}

// ctlSignin sends signin ACCOUNT with the password on the line after the
// request and prints the daemon's answer.
func ctlSignin(ctx context.Context, sock string, args []string, pw string, stdout io.Writer, l *msgslang.Catalog) error {
	res, err := msdaemon.SigninRequest(ctx, sock, args[1], pw)
	if err != nil {
		var de msdaemon.DialError
		if errors.As(err, &de) {
			return errors.New(l.Text("err.ctl-connect", sock, de.Err))
		}
		return fmt.Errorf("signin: %w", err)
	}
	fmt.Fprintf(stdout, "%s\n", res)
	return nil
}

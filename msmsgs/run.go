package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/console"
	msdaemon "github.com/oemkit/messenger/msmsgs/daemon"
)

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, stdin, stdout, stderr, os.Getenv)
}

func runEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		printUsage(stderr, english())
		return config.UsageError{Err: errors.New("no command")}
	}
	cmd, rest := args[0], args[1:]
	if strings.HasPrefix(cmd, "-") && cmd != "-h" && cmd != "-help" && cmd != "--help" {
		cmd, rest = "daemon", args // flags alone: daemon mode
	}
	if cmd == "daemon" || cmd == "console" {
		return runSession(ctx, cmd, rest, stdin, stdout, stderr, getenv)
	}
	// help and ctl show the locale of the device's settings file, if any.
	l, enc := deviceLang(stderr, getenv)
	switch cmd {
	case "help", "-h", "-help", "--help":
		w := consoleWriter(stdout, enc)
		printUsage(w, l)
		return w.Flush()
	case "ctl":
		// ctl's standard output is data (JSON), shown as is.
		return consoleError(runCtlInput(ctx, rest, stdin, stdout, stderr, getenv, l), enc)
	}
	w := consoleWriter(stderr, enc)
	printUsage(w, l)
	w.Flush()
	return consoleError(config.UsageError{Err: errors.New(l.Text("err.unknown-cmd", cmd))}, enc)
}

// runSession is msmsgs daemon and msmsgs console: from the settings on,
// the console and the log show the device's locale in the console's
// encoding.
func runSession(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	// The locale comes first so flag errors and help are localized too.
	pre := config.Pre(cmd, args, english())
	enc, encErr := pre.Encoding(getenv)
	logw := consoleWriter(stderr, enc)
	defer logw.Flush()
	l := pre.Lang(catalog, newLogger(logw, pre.Verbose))
	s, err := config.Parse(cmd, args, logw, l)
	if err != nil {
		return consoleError(err, enc)
	}
	if encErr != nil {
		return consoleError(errors.New(l.Text("err.console-encoding", s.ConsoleEncoding)), enc)
	}
	// The daemon may start without an account and wait for signin.
	s.AwaitSignIn = cmd == "daemon"
	if err := s.Validate(getenv, l); err != nil {
		return consoleError(err, enc)
	}
	log := newLogger(logw, s.Verbose)
	d, err := msdaemon.New(s, l, log)
	if err != nil {
		return consoleError(err, enc)
	}
	if cmd == "daemon" {
		err = runDaemon(ctx, d, s, l, log)
	} else {
		out := consoleWriter(stdout, enc)
		err = console.Run(ctx, d, stdin, out, console.IsTerminal(stdout))
		if ferr := out.Flush(); err == nil {
			err = ferr
		}
	}
	return consoleError(err, enc)
}

// runDaemon signs in and serves the control socket until ctx ends.
func runDaemon(ctx context.Context, d *msdaemon.Daemon, s *config.Settings, l *msgslang.Catalog, log *slog.Logger) error {
	ctl := s.Ctl
	ln, err := msdaemon.Listen(ctl, l)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.Run(ctx); err != nil {
			log.Error(l.Text("log.signin-failed"), "err", err)
		}
	}()
	// The accounts the daemon runs: the .NET Messenger one, the SIP one, or both.
	var accounts []any
	if cl := d.Client(); cl != nil {
		accounts = append(accounts, "account", cl.Account())
	}
	if sa := d.SIP(); sa != nil {
		accounts = append(accounts, "sip", sa.URI())
	}
	log.Info(l.Text("log.ctl"), append([]any{"path", ctl}, accounts...)...)
	if d.AwaitsSignIn() {
		log.Info(l.Text("log.signin-wait"), "server", s.Server)
	}
	startWindow(ctx, ctl, s, l, log)
	err = d.Serve(ctx, ln)
	cancel()
	wg.Wait()
	_ = os.Remove(ctl)
	return err
}

// deviceLang loads the locale of the device's settings file for commands
// without settings flags (help, ctl) and returns it with its console
// encoding. A missing or bad file leaves the built-in English and ASCII;
// ctl reports a bad file itself.
func deviceLang(stderr io.Writer, getenv func(string) string) (*msgslang.Catalog, stdio.Encoding) {
	data, err := os.ReadFile(config.DeviceSettings)
	if err != nil {
		return english(), stdio.ASCII
	}
	var s config.Settings
	if s.ParseFile(data) != nil {
		return english(), stdio.ASCII
	}
	enc, _ := s.Encoding(getenv)
	return s.Lang(catalog, newLogger(consoleWriter(stderr, enc), false)), enc
}

func printUsage(w io.Writer, l *msgslang.Catalog) {
	fmt.Fprint(w, l.Text("usage"))
	fs := flag.NewFlagSet("msmsgs", flag.ContinueOnError)
	fs.SetOutput(w)
	config.Flags(fs, &config.Settings{}, l)
	fs.PrintDefaults()
}

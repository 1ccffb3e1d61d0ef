package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oemkit/messenger/feature/stdio"
)

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, stdin, stdout, stderr, os.Getenv)
}

func runEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usageError{errors.New("no command")}
	}
	cmd, rest := args[0], args[1:]
	if strings.HasPrefix(cmd, "-") && cmd != "-h" && cmd != "-help" && cmd != "--help" {
		cmd, rest = "daemon", args // flags alone: daemon mode
	}
	if cmd == "daemon" || cmd == "console" {
		return runSession(ctx, cmd, rest, stdin, stdout, stderr, getenv)
	}
	// help and ctl show the locale of the device's settings file, if any.
	enc := deviceLang(stderr, getenv)
	switch cmd {
	case "help", "-h", "-help", "--help":
		w := consoleWriter(stdout, enc)
		printUsage(w)
		return w.Flush()
	case "ctl":
		// ctl's standard output is data (JSON), shown as is.
		return consoleError(runCtl(ctx, rest, stdout, stderr, getenv), enc)
	}
	w := consoleWriter(stderr, enc)
	printUsage(w)
	w.Flush()
	return consoleError(usageError{errors.New(text("err.unknown-cmd", cmd))}, enc)
}

// runSession is msmsgs daemon and msmsgs console: from the settings on,
// the console and the log show the device's locale in the console's
// encoding.
func runSession(ctx context.Context, cmd string, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	// The locale comes first so flag errors and help are localized too.
	pre := preSettings(cmd, args)
	enc, encErr := consoleEncoding(pre, getenv)
	logw := consoleWriter(stderr, enc)
	defer logw.Flush()
	loadLang(pre, newLogger(logw, pre.Verbose))
	s, err := parseSettings(cmd, args, logw)
	if err != nil {
		return consoleError(err, enc)
	}
	s.enc = enc
	if encErr != nil {
		return consoleError(errors.New(text("err.console-encoding", s.ConsoleEncoding)), enc)
	}
	if err := s.validate(getenv); err != nil {
		return consoleError(err, enc)
	}
	if cmd == "daemon" {
		err = runDaemon(ctx, s, logw)
	} else {
		err = runConsole(ctx, s, stdin, stdout, logw)
	}
	return consoleError(err, enc)
}

// deviceLang loads the locale of the device's settings file for commands
// without settings flags (help, ctl) and returns its console encoding. A
// missing or bad file leaves the built-in English and ASCII; ctl reports
// a bad file itself.
func deviceLang(stderr io.Writer, getenv func(string) string) stdio.Encoding {
	data, err := os.ReadFile(deviceSettings)
	if err != nil {
		return stdio.ASCII
	}
	var s settings
	if s.parseSettingsFile(data) != nil {
		return stdio.ASCII
	}
	enc, _ := consoleEncoding(&s, getenv)
	loadLang(&s, newLogger(consoleWriter(stderr, enc), false))
	return enc
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, text("usage"))
	fs := flag.NewFlagSet("msmsgs", flag.ContinueOnError)
	fs.SetOutput(w)
	settingsFlags(fs, &settings{})
	fs.PrintDefaults()
}

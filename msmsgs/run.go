package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
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
	switch cmd {
	case "help", "-h", "-help", "--help":
		printUsage(stdout)
		return nil
	case "ctl":
		return runCtl(ctx, rest, stdout, stderr, getenv)
	case "daemon", "console":
		s, err := parseSettings(cmd, rest, stderr)
		if err != nil {
			return err
		}
		if err := s.validate(getenv); err != nil {
			return err
		}
		if cmd == "daemon" {
			return runDaemon(ctx, s, stderr)
		}
		return runConsole(ctx, s, stdin, stdout, stderr)
	}
	printUsage(stderr)
	return usageError{errors.New(text("err.unknown-cmd", cmd))}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, text("usage"))
	fs := flag.NewFlagSet("msmsgs", flag.ContinueOnError)
	fs.SetOutput(w)
	settingsFlags(fs, &settings{})
	fs.PrintDefaults()
}

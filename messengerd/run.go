package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError marks errors that exit with status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `usage:
  messengerd serve -data DIR [-addr 127.0.0.1:1863] [-https 127.0.0.1:8443] [-http ADDR] [flags]
  messengerd user add -data DIR [-name NAME] EMAIL   (password read from standard input)
  messengerd user passwd -data DIR EMAIL            (password read from standard input)
  messengerd user list -data DIR
run "messengerd serve -h" for all serve flags`

// run is messengerd's command line.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "user":
		if len(args) < 2 {
			return usageError{usage}
		}
		return runUser(ctx, args[1], args[2:], stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q\n%s", args[0], usage)}
}

// parseFlags parses fs, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return usageError{"help requested"}
		}
		return usageError{err.Error()}
	}
	return nil
}

// interleaved lets "user add EMAIL -data DIR" work as well as flags first.
func interleaved(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, stderr); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if !strings.HasPrefix(args[0], "-") {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
}

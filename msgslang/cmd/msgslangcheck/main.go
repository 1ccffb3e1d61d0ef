// Command msgslangcheck checks msmsgs locale files: every key the program
// uses exists in every locale, no locale has stale keys, format verbs and
// placeholders match the source, and plural forms are complete.
//
//	go run ./msgslang/cmd/msgslangcheck -keys-from msmsgs/strings.go msgslang/locales
//	go run ./msgslang/cmd/msgslangcheck -source en-US /path/to/locales
//	go run ./msgslang/cmd/msgslangcheck -source en-US -changed-since old/en-US.toml /path/to/locales
//
// It exits 0 when every file is fine, 1 with one line per problem
// (file, key, what to fix), 2 on bad usage.
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
	"github.com/oemkit/messenger/msgslang/check"
	"github.com/oemkit/messenger/msgslang/gosrc"
)

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	var u usageError
	switch {
	case err == nil:
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, "msgslangcheck:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "msgslangcheck:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func run(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("msgslangcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	keysFrom := fs.String("keys-from", "", "take the keys and source strings from the map literal in this Go `file` (e.g. msmsgs/strings.go)")
	varName := fs.String("var", "catalog", "name of the map `variable` in the -keys-from file")
	source := fs.String("source", msgslang.Source, "source `locale` in DIR to check the others against (when -keys-from is not set)")
	since := fs.String("changed-since", "", "also list translations whose source text changed since this old source locale `file` (e.g. last release's en-US.toml)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: msgslangcheck [-keys-from FILE.go [-var NAME] | -source LOCALE] [-changed-since OLD.toml] DIR")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError{errors.New("want exactly one DIR of locale files")}
	}
	dir := fs.Arg(0)
	var src *msgslang.Locale
	if *keysFrom != "" {
		t, err := gosrc.ReadFile(*keysFrom, *varName)
		if err != nil {
			return fmt.Errorf("%w (check -keys-from and -var)", err)
		}
		src = msgslang.FromTable(msgslang.Source, t)
	} else {
		name, err := msgslang.Canonical(*source)
		if err != nil {
			return usageError{err}
		}
		src, err = msgslang.ReadFile(filepath.Join(dir, msgslang.FileName(name)))
		if err != nil {
			return fmt.Errorf("source locale: %w (pass -source LOCALE or -keys-from FILE.go)", err)
		}
	}
	probs, err := check.Dir(dir, src)
	if err != nil {
		return err
	}
	if *since != "" {
		old, err := msgslang.ReadFile(*since)
		if err != nil {
			return fmt.Errorf("-changed-since: %w", err)
		}
		more, err := check.Changed(dir, old, src)
		if err != nil {
			return err
		}
		probs = append(probs, more...)
	}
	for _, p := range probs {
		fmt.Fprintln(stdout, p)
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d problem(s) in %s", len(probs), dir)
	}
	fmt.Fprintf(stdout, "ok: %s: %d keys\n", dir, len(src.Messages))
	return nil
}

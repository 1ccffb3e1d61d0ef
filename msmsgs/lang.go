package main

import (
	"io"
	"log/slog"

	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msgslang"
)

// english is the built-in table as a catalog: the texts before the
// settings are read, and the fallback of every locale.
func english() *msgslang.Catalog { return msgslang.New(catalog) }

// newLogger returns the program's logger on w.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	lvl := slog.LevelInfo
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// consoleWriter returns w as a console of encoding enc: UTF-8 text passes
// through, or is transliterated to readable ASCII.
func consoleWriter(w io.Writer, enc stdio.Encoding) *stdio.Writer {
	if sw, ok := w.(*stdio.Writer); ok && sw.Encoding() == enc {
		return sw
	}
	return stdio.NewWriter(w, enc)
}

// consoleError returns err with its message readable on a console of
// encoding enc (main prints it); errors.Is and errors.As still see err.
func consoleError(err error, enc stdio.Encoding) error {
	if err == nil || enc != stdio.ASCII {
		return err
	}
	msg := err.Error()
	if t := stdio.Transliterate(msg); t != msg {
		return asciiError{msg: t, err: err}
	}
	return err
}

// asciiError is an error whose message was transliterated for an ASCII
// console.
type asciiError struct {
	msg string
	err error
}

func (e asciiError) Error() string { return e.msg }
func (e asciiError) Unwrap() error { return e.err }

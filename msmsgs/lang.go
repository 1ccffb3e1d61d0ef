package main

import (
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msgslang"
)

// lang is the catalog text uses: the built-in English table until the
// settings are read, then the msgslang locale of msmsgs.locale.
var lang atomic.Pointer[msgslang.Catalog]

func init() { lang.Store(msgslang.New(catalog)) }

// text returns the user-visible string for key in the current locale,
// formatted with args. A key missing from the locale falls back to en-US
// with one logged warning; a raw key is never shown.
func text(key string, args ...any) string { return lang.Load().Text(key, args...) }

// loadLang switches text to the locale of the settings (msmsgs.locale,
// files in msmsgs.lang_dir or msgslang.DefaultDir). It never fails: a
// missing locale logs one warning on log and shows en-US.
func loadLang(s *settings, log *slog.Logger) {
	dir := s.LangDir
	if dir == "" {
		dir = msgslang.DefaultDir
	}
	lang.Store(msgslang.Load(dir, s.Locale, msgslang.Options{Fallback: catalog, Logger: log}))
}

// defaultEncoding is the console encoding when console.encoding is not
// set: the SYSGEN_STDIOA item's default, ASCII.
const defaultEncoding = "ascii"

// consoleEncoding returns the console encoding of the console.encoding
// setting (utf-8, ascii or auto; getenv is read for auto).
func consoleEncoding(s *settings, getenv func(string) string) (stdio.Encoding, error) {
	v := s.ConsoleEncoding
	if v == "" {
		v = defaultEncoding
	}
	enc, err := stdio.Detect(v, getenv)
	if err != nil {
		return stdio.ASCII, err
	}
	return enc, nil
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

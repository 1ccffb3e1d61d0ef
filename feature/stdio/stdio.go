// Package stdio is the "Standard I/O ASCII" catalog item (SYSGEN_STDIOA):
// console output for serial consoles that may show only ASCII. Detect
// decides from the "console.encoding" setting (utf-8, ascii or auto, which
// reads LC_ALL, LC_CTYPE and LANG) whether the console shows UTF-8; a
// Writer for an ASCII console transliterates UTF-8 text to readable ASCII:
// German umlauts as ae/oe/ue/ss, other Latin accents dropped, typographic
// quotes and dashes as ASCII, Japanese kana as Hepburn romaji, and anything
// else as a \uXXXX escape.
package stdio

import (
	"errors"
	"fmt"
	"strings"
)

// Setting is the device setting that selects the console encoding.
const Setting = "console.encoding"

// Encoding is what a console can show.
type Encoding int

// Console encodings.
const (
	UTF8  Encoding = iota + 1 // the console shows UTF-8
	ASCII                     // only 7-bit ASCII: transliterate the rest
)

func (e Encoding) String() string {
	switch e {
	case UTF8:
		return "utf-8"
	case ASCII:
		return "ascii"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// ErrSetting is wrapped by errors about a bad console.encoding value.
var ErrSetting = errors.New("invalid console.encoding")

// Detect returns the console encoding for a console.encoding setting:
// "utf-8" (or "utf8"), "ascii", or "auto" / "" to decide from the locale
// environment: the first set of LC_ALL, LC_CTYPE and LANG, UTF-8 when its
// codeset is UTF-8 ("de_DE.UTF-8", "C.UTF-8"), ASCII otherwise (unset,
// "C", "POSIX", or another codeset). getenv is usually os.Getenv.
func Detect(setting string, getenv func(string) string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(setting)) {
	case "utf-8", "utf8":
		return UTF8, nil
	case "ascii", "us-ascii":
		return ASCII, nil
	case "auto", "":
		for _, k := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
			v := getenv(k)
			if v == "" {
				continue
			}
			_, codeset, _ := strings.Cut(v, ".")
			codeset, _, _ = strings.Cut(codeset, "@")
			switch strings.ToLower(codeset) {
			case "utf-8", "utf8":
				return UTF8, nil
			}
			return ASCII, nil
		}
		return ASCII, nil
	}
	return 0, fmt.Errorf("stdio: %w %q: use utf-8, ascii or auto", ErrSetting, setting)
}

// Transliterate returns s as readable ASCII (see the package comment).
func Transliterate(s string) string {
	var t translit
	out, _ := t.convert(nil, []byte(s), true)
	return string(out)
}

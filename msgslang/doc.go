// Package msgslang is msmsgs's localizable resources module (CE's
// msgslang): one string table per locale, in its own file, so an image
// ships one msmsgs binary in any language and swapping a file on the device
// changes the language without a rebuild.
//
// # Files
//
// A locale file is TOML named <locale>.toml, installed in DefaultDir
// (/usr/share/msgslang):
//
//	locale = "de-DE"
//
//	[strings]
//	"con.welcome" = "msmsgs-Konsole. Geben Sie /help ein, um die Befehle zu sehen."
//	"con.presence" = "* %s (%s) ist jetzt %s"
//	"x.count" = { one = "ein Kontakt", other = "%d Kontakte" }
//
// Keys are quoted. Values are fmt format strings; a translation may reorder
// arguments with %[n] indexes. Plural forms use CLDR categories (de-DE:
// one, other; ja-JP: other only). Parse is strict (unknown keys, wrong
// types and files over MaxFileSize are errors). en-US and the pseudo-locale
// qps-ploc are generated from msmsgs's built-in table by go generate;
// msgslangcheck (package check) verifies translations against it.
//
// # Run time
//
// Load picks the locale (names like de_DE, de-de, or CE LCIDs like 0407),
// falls back to the language's main locale, then en-US's file, then the
// caller's built-in table, with one logged warning per missing locale or
// key; it never shows a raw key. Text and Plural format through
// feature/strsafe, so no output exceeds Options.MaxLen and bad arguments
// never panic. The package embeds no strings: translations reach the
// device only as files (ContainsStrings checks a binary for them).
//
// In msmsgs, text(key, args...) becomes a call on a Catalog loaded once
// the settings are read:
//
//	var lang atomic.Pointer[msgslang.Catalog] // msgslang.New(catalog) until then
//
//	func text(key string, args ...any) string { return lang.Load().Text(key, args...) }
//
//	lang.Store(msgslang.Load(msgslang.DefaultDir, s.Locale, msgslang.Options{Fallback: catalog, Logger: log}))
//
// An image build resolves the design's locales with Resolve and copies each
// file to DefaultDir.
package msgslang

//go:generate go run ./cmd/msgslanggen -from ../msmsgs/strings.go -o locales

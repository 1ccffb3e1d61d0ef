package msgslang

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// recorder is a slog handler that keeps warning messages with their attrs.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	s := rec.Message
	rec.Attrs(func(a slog.Attr) bool {
		s += " " + a.String()
		return true
	})
	r.mu.Lock()
	r.msgs = append(r.msgs, s)
	r.mu.Unlock()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

var builtin = map[string]string{
	"hello":    "Hello, %s!",
	"bye":      "Goodbye",
	"only.en":  "only in English",
	"only.bin": "only built in",
	"n.items":  "%d items",
}

func writeLocales(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const enFile = `locale = "en-US"
[strings]
"hello" = "Hello, %s!"
"bye" = "Goodbye"
"only.en" = "only in English (file)"
"n.items" = { one = "one item", other = "%d items" }
`

const deFile = `locale = "de-DE"
[strings]
"hello" = "Hallo, %s!"
"bye" = "Tschüss"
"n.items" = { one = "ein Eintrag", other = "%d Einträge" }
`

func TestLoad(t *testing.T) {
	dir := writeLocales(t, map[string]string{"en-US.toml": enFile, "de-DE.toml": deFile})
	tests := []struct {
		name       string
		locale     string
		wantLocale string
		key        string
		args       []any
		want       string
		warnings   []string // substrings, one per expected warning
	}{
		{"german", "de-DE", "de-DE", "hello", []any{"Ana"}, "Hallo, Ana!", nil},
		{"underscore", "de_DE", "de-DE", "bye", nil, "Tschüss", nil},
		{"lcid", "0407", "de-DE", "bye", nil, "Tschüss", nil},
		{"regional variant", "de-AT", "de-DE", "bye", nil, "Tschüss", []string{"locale=de-AT"}},
		{"bare language", "de", "de-DE", "bye", nil, "Tschüss", []string{"locale=de"}},
		{"missing key falls back to en-US file", "de-DE", "de-DE", "only.en", nil, "only in English (file)", []string{"key=only.en"}},
		{"missing key falls back to built-in", "de-DE", "de-DE", "only.bin", nil, "only built in", []string{"key=only.bin", "key=only.bin"}},
		{"missing locale", "ja-JP", "en-US", "hello", []any{"Ana"}, "Hello, Ana!", []string{"locale=ja-JP"}},
		{"bad locale name", "../../etc/passwd", "en-US", "bye", nil, "Goodbye", []string{"locale=../../etc/passwd"}},
		{"empty means en-US", "", "en-US", "bye", nil, "Goodbye", nil},
		{"unknown key shows args, not the key", "de-DE", "de-DE", "no.such.key", []any{"x", 2}, "x 2", []string{"key=no.such.key", "key=no.such.key", "key=no.such.key"}},
		{"unknown key without args is empty", "en-US", "en-US", "no.such.key", nil, "", []string{"key=no.such.key", "key=no.such.key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			c := Load(dir, tt.locale, Options{Fallback: builtin, Logger: slog.New(rec)})
			if got := c.Locale(); got != tt.wantLocale {
				t.Errorf("Load(%q).Locale() = %q, want %q", tt.locale, got, tt.wantLocale)
			}
			// Twice: the second lookup must not warn again.
			for range 2 {
				if got := c.Text(tt.key, tt.args...); got != tt.want {
					t.Errorf("Text(%q, %v) = %q, want %q", tt.key, tt.args, got, tt.want)
				}
			}
			got := rec.all()
			if len(got) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", got, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}

func TestLoadNoFiles(t *testing.T) {
	// An image built with only the default locale (IMGNOLOC-style) or a
	// device without locale files: en-US comes from the built-in table
	// without a warning; any other locale warns once.
	dir := t.TempDir()
	rec := &recorder{}
	c := Load(dir, "en-US", Options{Fallback: builtin, Logger: slog.New(rec)})
	if got := c.Text("hello", "Ana"); got != "Hello, Ana!" {
		t.Errorf("Text(hello) = %q, want %q", got, "Hello, Ana!")
	}
	if w := rec.all(); len(w) != 0 {
		t.Errorf("warnings = %q, want none", w)
	}
	c = Load(dir, "de-DE", Options{Fallback: builtin, Logger: slog.New(rec)})
	c.Text("hello", "x")
	c.Text("hello", "y")
	if w := rec.all(); len(w) != 1 || !strings.Contains(w[0], "de-DE") {
		t.Errorf("warnings = %q, want one about de-DE", w)
	}
}

func TestLoadInvalidFile(t *testing.T) {
	dir := writeLocales(t, map[string]string{"de-DE.toml": "locale = \"de-DE\"\n[strings]\n\"a\" = 5\n", "en-US.toml": enFile})
	rec := &recorder{}
	c := Load(dir, "de-DE", Options{Fallback: builtin, Logger: slog.New(rec)})
	if got := c.Text("bye"); got != "Goodbye" {
		t.Errorf("Text(bye) = %q, want Goodbye", got)
	}
	if w := rec.all(); len(w) != 1 || !strings.Contains(w[0], "want a string") {
		t.Errorf("warnings = %q, want one naming the parse error", w)
	}
}

func TestLoadSwappedFile(t *testing.T) {
	// Replacing de-DE.toml with another locale's file shows that locale.
	ja := "locale = \"ja-JP\"\n[strings]\n\"bye\" = \"さようなら\"\n"
	dir := writeLocales(t, map[string]string{"de-DE.toml": ja})
	rec := &recorder{}
	c := Load(dir, "de-DE", Options{Fallback: builtin, Logger: slog.New(rec)})
	if got := c.Text("bye"); got != "さようなら" {
		t.Errorf("Text(bye) = %q, want さようなら", got)
	}
	if got := c.Locale(); got != "ja-JP" {
		t.Errorf("Locale() = %q, want ja-JP", got)
	}
	if w := rec.all(); len(w) != 1 {
		t.Errorf("warnings = %q, want one", w)
	}
}

func TestPlural(t *testing.T) {
	ja := "locale = \"ja-JP\"\n[strings]\n\"n.items\" = { other = \"%d 件\" }\n"
	dir := writeLocales(t, map[string]string{"en-US.toml": enFile, "de-DE.toml": deFile, "ja-JP.toml": ja})
	tests := []struct {
		locale string
		n      int
		want   string
	}{
		{"de-DE", 1, "ein Eintrag"},
		{"de-DE", 0, "0 Einträge"},
		{"de-DE", 5, "5 Einträge"},
		{"en-US", 1, "one item"},
		{"en-US", 2, "2 items"},
		{"ja-JP", 1, "1 件"},
		{"ja-JP", 7, "7 件"},
	}
	for _, tt := range tests {
		c := Load(dir, tt.locale, Options{Fallback: builtin, Logger: slog.New(&recorder{})})
		if got := c.Plural("n.items", tt.n, tt.n); got != tt.want {
			t.Errorf("%s: Plural(n.items, %d) = %q, want %q", tt.locale, tt.n, got, tt.want)
		}
	}
	// Text on a plural string shows the "other" form.
	c := Load(dir, "de-DE", Options{Fallback: builtin, Logger: slog.New(&recorder{})})
	if got := c.Text("n.items", 1); got != "1 Einträge" {
		t.Errorf("Text(n.items, 1) = %q, want %q", got, "1 Einträge")
	}
}

func TestMaxLen(t *testing.T) {
	c := Load(t.TempDir(), "", Options{Fallback: builtin, MaxLen: 10, Logger: slog.New(&recorder{})})
	if got := c.Text("hello", strings.Repeat("ä", 100)); len(got) > 10 {
		t.Errorf("Text(hello, long) = %q (%d bytes), want <= 10", got, len(got))
	}
	if got := c.Text("only.bin"); got != "only bu…" {
		t.Errorf("Text(only.bin) = %q, want %q", got, "only bu…")
	}
}

func TestConcurrent(t *testing.T) {
	dir := writeLocales(t, map[string]string{"de-DE.toml": deFile})
	rec := &recorder{}
	c := Load(dir, "de-DE", Options{Fallback: builtin, Logger: slog.New(rec)})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Text("only.bin")
				c.Plural("n.items", i, i)
			}
		}()
	}
	wg.Wait()
	if w := rec.all(); len(w) != 1 {
		t.Errorf("warnings = %q, want exactly one", w)
	}
}

func TestContainsStrings(t *testing.T) {
	bin := []byte("\x00\x01ELF...Hallo, %s!...Tschüss...ok\x00")
	table := map[string]string{"hello": "Hallo, %s!", "bye": "Tschüss", "ok": "ok", "absent": "nicht enthalten"}
	got := ContainsStrings(bin, table)
	if want := []string{"bye", "hello"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ContainsStrings = %q, want %q (ok is shorter than %d bytes)", got, want, MinContainsLen)
	}
}

func TestWithout(t *testing.T) {
	got := Without(map[string]string{"a": "Online", "b": "Beschäftigt", "c": "  %s: %s"}, map[string]string{"x": "Online", "y": "  %s: %s"})
	if len(got) != 1 || got["b"] != "Beschäftigt" {
		t.Errorf("Without = %q, want only b", got)
	}
}

func TestBuiltinPlural(t *testing.T) {
	table := map[string]string{"n.contacts[one]": "one contact", "n.contacts[other]": "%d contacts", "plain": "x"}
	c := Load(t.TempDir(), "", Options{Fallback: table, Logger: slog.New(&recorder{})})
	tests := []struct {
		n    int
		want string
	}{{1, "one contact"}, {0, "0 contacts"}, {7, "7 contacts"}}
	for _, tt := range tests {
		if got := c.Plural("n.contacts", tt.n, tt.n); got != tt.want {
			t.Errorf("Plural(n.contacts, %d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := c.Text("n.contacts", 3); got != "3 contacts" {
		t.Errorf("Text(n.contacts, 3) = %q, want %q", got, "3 contacts")
	}
	l := FromTable(Source, table)
	want := Message{Other: "%d contacts", Forms: map[string]string{One: "one contact", Other: "%d contacts"}}
	if got := l.Messages["n.contacts"]; got.Other != want.Other || len(got.Forms) != 2 || got.Forms[One] != want.Forms[One] {
		t.Errorf("FromTable: n.contacts = %+v, want %+v", got, want)
	}
	back := l.Table()
	if len(back) != len(table) || back["n.contacts[one]"] != "one contact" || back["plain"] != "x" {
		t.Errorf("FromTable(t).Table() = %q, want %q", back, table)
	}
}

package msgslang

import (
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/oemkit/messenger/feature/strsafe"
)

// DefaultDir is where the image installs locale files:
// /usr/share/msgslang/<locale>.toml.
const DefaultDir = "/usr/share/msgslang"

// DefaultMaxLen bounds one formatted string when Options.MaxLen is zero.
const DefaultMaxLen = 16 << 10

// Options configure Load.
type Options struct {
	// Fallback is the caller's built-in English table (key -> format
	// string), used when neither the locale nor en-US has a key. Plural
	// forms are keys like "key[one]" and "key[other]".
	Fallback map[string]string
	// Logger receives one warning per missing locale and per missing key;
	// nil means slog.Default().
	Logger *slog.Logger
	// MaxLen bounds every string Text and Plural return, in bytes;
	// zero means DefaultMaxLen.
	MaxLen int
}

// Catalog looks strings up in a locale, then en-US, then the caller's
// built-in table. It is safe for concurrent use.
type Catalog struct {
	name     string    // effective locale
	chain    []*Locale // the locale's file, then en-US's file
	fallback map[string]string
	log      *slog.Logger
	max      int

	mu     sync.Mutex
	warned map[string]bool
}

// New returns a catalog that shows only the built-in table (the state
// before settings are read, or on a device without locale files).
func New(fallback map[string]string) *Catalog {
	return &Catalog{name: Source, fallback: fallback, log: slog.Default(), max: DefaultMaxLen, warned: map[string]bool{}}
}

// Load returns the catalog for locale (a name like "de-DE", "de_DE" or an
// LCID like "0407"; "" means en-US) from the files in dir. It never fails:
// when the locale's file is missing or invalid it logs one warning and
// uses the language's main locale (de-AT -> de-DE), then en-US's file,
// then opts.Fallback.
func Load(dir, locale string, opts Options) *Catalog {
	c := New(opts.Fallback)
	if opts.Logger != nil {
		c.log = opts.Logger
	}
	if opts.MaxLen > 0 {
		c.max = opts.MaxLen
	}
	want := Source
	if locale != "" {
		n, err := Canonical(locale)
		if err != nil {
			c.log.Warn("msgslang: bad locale setting; showing en-US (set msmsgs.locale to a name like de-DE)", "locale", locale, "err", err)
		} else {
			want = n
		}
	}
	candidates := []string{want}
	if p, ok := primary[language(want)]; ok && p != want {
		candidates = append(candidates, p)
	}
	var firstErr error
	got := ""
	for _, name := range candidates {
		l, err := ReadFile(filepath.Join(dir, FileName(name)))
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if l.Name != name {
			c.log.Warn("msgslang: locale file declares another locale; using its strings", "file", FileName(name), "locale", l.Name)
		}
		c.chain = append(c.chain, l)
		c.name, got = l.Name, name
		break
	}
	if got != want {
		switch {
		case want == Source && errors.Is(firstErr, fs.ErrNotExist) && len(opts.Fallback) > 0:
			// No en-US file: the built-in English is the same text.
		case c.chain != nil:
			c.log.Warn("msgslang: locale not available; showing "+c.name+" (install its file or change msmsgs.locale)", "locale", want, "err", firstErr)
		default:
			c.log.Warn("msgslang: locale not available; showing en-US (install its file or change msmsgs.locale)", "locale", want, "err", firstErr)
		}
	}
	if c.name != Source {
		l, err := ReadFile(filepath.Join(dir, FileName(Source)))
		switch {
		case err == nil:
			c.chain = append(c.chain, l)
		case !errors.Is(err, fs.ErrNotExist):
			c.log.Warn("msgslang: en-US locale file unusable; falling back to built-in English", "err", err)
		}
	}
	if len(c.chain) == 0 {
		c.name = Source
	}
	return c
}

// Locale returns the locale the catalog shows, e.g. "de-DE", or "en-US"
// when it fell back.
func (c *Catalog) Locale() string { return c.name }

// Text returns the string for key formatted with args (fmt verbs, bounded
// by strsafe.Format). With no args the string is returned unformatted. A
// key missing from the locale falls back to en-US (one warning per key);
// a key found nowhere shows args joined by spaces, never the key itself.
func (c *Catalog) Text(key string, args ...any) string {
	return c.format(key, -1, false, args)
}

// Plural is Text for a string with plural forms: n picks the form by the
// locale's plural rules (it is not an argument; pass it in args too if the
// string shows it).
func (c *Catalog) Plural(key string, n int, args ...any) string {
	return c.format(key, n, true, args)
}

// Lookup returns the raw string for key (the "other" form for plurals) and
// whether the locale or en-US or the built-in table has it. It logs nothing.
func (c *Catalog) Lookup(key string) (string, bool) {
	for _, l := range c.chain {
		if m, ok := l.Messages[key]; ok {
			return m.Other, true
		}
	}
	return c.builtin(key, Other)
}

// builtin looks key up in the caller's table: the plural form cat
// ("key[one]"), then "key[other]", then the plain "key".
func (c *Catalog) builtin(key, cat string) (string, bool) {
	if s, ok := c.fallback[key+"["+cat+"]"]; ok {
		return s, true
	}
	if s, ok := c.fallback[key+"["+Other+"]"]; ok {
		return s, true
	}
	s, ok := c.fallback[key]
	return s, ok
}

func (c *Catalog) format(key string, n int, plural bool, args []any) string {
	f, ok := c.find(key, n, plural)
	if !ok {
		c.warnOnce("\x00"+key, "msgslang: no string for key; showing its arguments only (add the key to the locale files)", "key", key)
		parts := make([]string, len(args))
		for i := range args {
			parts[i] = "%v"
		}
		return strsafe.Format(c.max, strings.Join(parts, " "), args...)
	}
	if len(args) == 0 {
		return strsafe.Truncate(f, c.max)
	}
	return strsafe.Format(c.max, f, args...)
}

func (c *Catalog) find(key string, n int, plural bool) (string, bool) {
	for i, l := range c.chain {
		m, ok := l.Messages[key]
		if !ok {
			next := "the built-in English"
			if i+1 < len(c.chain) {
				next = c.chain[i+1].Name
			}
			c.warnOnce(l.Name+"\x00"+key, "msgslang: key missing from locale; showing "+next+" (run msgslangcheck on the locale files)", "locale", l.Name, "key", key)
			continue
		}
		if plural && m.Plural() {
			if s, ok := m.Forms[PluralCategory(l.Name, n)]; ok {
				return s, true
			}
		}
		return m.Other, true
	}
	cat := Other
	if plural {
		cat = PluralCategory(Source, n)
	}
	return c.builtin(key, cat)
}

func (c *Catalog) warnOnce(id, msg string, args ...any) {
	c.mu.Lock()
	seen := c.warned[id]
	c.warned[id] = true
	c.mu.Unlock()
	if !seen {
		c.log.Warn(msg, args...)
	}
}

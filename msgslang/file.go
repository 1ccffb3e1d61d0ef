package msgslang

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// Ext is the file name extension of a locale file: <locale>.toml.
const Ext = ".toml"

// Limits on a locale file; anything larger is refused.
const (
	MaxFileSize   = 1 << 20
	MaxMessages   = 10000
	MaxMessageLen = 16 << 10
	maxKeyLen     = 128
)

// ErrFile is wrapped by every error about a malformed locale file.
var ErrFile = errors.New("invalid locale file")

// Message is one localized string: a format string for fmt-style verbs, or
// plural forms chosen by a count.
type Message struct {
	// Other is the string, or for plural forms the "other" form.
	Other string
	// Forms holds every plural form by CLDR category (including "other");
	// nil for a plain string.
	Forms map[string]string
}

// Plural reports whether m has plural forms.
func (m Message) Plural() bool { return m.Forms != nil }

// Locale is the content of one locale file.
type Locale struct {
	// Name is the canonical locale name, e.g. "de-DE".
	Name string
	// Messages maps keys such as "con.welcome" to strings.
	Messages map[string]Message
}

// FileName returns the file name of a locale's file, e.g. "de-DE.toml".
func FileName(locale string) string { return locale + Ext }

// ReadFile reads and strictly parses one locale file.
func ReadFile(path string) (*Locale, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("msgslang: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("msgslang: read %s: %w", path, err)
	}
	l, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return l, nil
}

// Parse strictly parses a locale file:
//
//	locale = "de-DE"
//
//	[strings]
//	"con.welcome" = "msmsgs-Konsole. /help zeigt die Befehle."
//	"con.contacts-count" = { one = "%d Kontakt", other = "%d Kontakte" }
//
// Keys must be quoted (a bare dotted key would make a nested table); plural
// forms are an inline table of CLDR categories that includes "other".
func Parse(data []byte) (*Locale, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("msgslang: %w: larger than %d bytes", ErrFile, MaxFileSize)
	}
	var raw struct {
		Locale  string         `toml:"locale"`
		Strings map[string]any `toml:"strings"`
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, fmt.Errorf("msgslang: %w: %v", ErrFile, err)
	}
	for _, k := range md.Undecoded() {
		// Values inside [strings] are checked below.
		if len(k) > 0 && k[0] != "strings" {
			return nil, fmt.Errorf("msgslang: %w: unknown key %q (a file has only locale = \"...\" and a [strings] table)", ErrFile, k.String())
		}
	}
	if raw.Locale == "" {
		return nil, fmt.Errorf("msgslang: %w: missing locale = \"...\" at the top", ErrFile)
	}
	name, err := Canonical(raw.Locale)
	if err != nil {
		return nil, fmt.Errorf("msgslang: %w: %w", ErrFile, err)
	}
	if len(raw.Strings) > MaxMessages {
		return nil, fmt.Errorf("msgslang: %w: more than %d strings", ErrFile, MaxMessages)
	}
	l := &Locale{Name: name, Messages: make(map[string]Message, len(raw.Strings))}
	for key, v := range raw.Strings {
		if !validKey(key) {
			return nil, fmt.Errorf("msgslang: %w: key %q: use letters, digits, '.', '-' and '_' (at most %d)", ErrFile, key, maxKeyLen)
		}
		m, err := message(v)
		if err != nil {
			return nil, fmt.Errorf("msgslang: %w: key %q: %v", ErrFile, key, err)
		}
		l.Messages[key] = m
	}
	return l, nil
}

func message(v any) (Message, error) {
	switch v := v.(type) {
	case string:
		if err := checkText(v); err != nil {
			return Message{}, err
		}
		return Message{Other: v}, nil
	case map[string]any:
		m := Message{Forms: make(map[string]string, len(v))}
		for cat, f := range v {
			if !isCategory(cat) {
				return Message{}, fmt.Errorf("%q is not a plural form (use zero, one, two, few, many, other; quote dotted keys like \"con.welcome\")", cat)
			}
			s, ok := f.(string)
			if !ok {
				return Message{}, fmt.Errorf("plural form %s is a %T, want a string", cat, f)
			}
			if err := checkText(s); err != nil {
				return Message{}, fmt.Errorf("plural form %s: %v", cat, err)
			}
			m.Forms[cat] = s
		}
		o, ok := m.Forms[Other]
		if !ok {
			return Message{}, errors.New("plural forms lack the required \"other\" form")
		}
		m.Other = o
		return m, nil
	}
	return Message{}, fmt.Errorf("value is a %T, want a string or plural forms { one = \"...\", other = \"...\" }", v)
}

func checkText(s string) error {
	if len(s) > MaxMessageLen {
		return fmt.Errorf("string longer than %d bytes", MaxMessageLen)
	}
	if !utf8.ValidString(s) {
		return errors.New("string is not valid UTF-8")
	}
	return nil
}

func isCategory(s string) bool {
	switch s {
	case Zero, One, Two, Few, Many, Other:
		return true
	}
	return false
}

func validKey(k string) bool {
	if k == "" || len(k) > maxKeyLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// FromTable returns a locale from a flat table, e.g. a program's built-in
// English: "key" holds a plain string and "key[one]", "key[other]" the
// plural forms of key (the shape Table returns).
func FromTable(name string, table map[string]string) *Locale {
	l := &Locale{Name: name, Messages: make(map[string]Message, len(table))}
	for k, s := range table {
		key, cat, ok := pluralKey(k)
		if !ok {
			l.Messages[k] = Message{Other: s}
			continue
		}
		m := l.Messages[key]
		if m.Forms == nil {
			m.Forms = map[string]string{}
		}
		m.Forms[cat] = s
		if cat == Other {
			m.Other = s
		}
		l.Messages[key] = m
	}
	return l
}

// pluralKey splits "key[cat]" into key and a plural category.
func pluralKey(k string) (key, cat string, ok bool) {
	i := strings.LastIndexByte(k, '[')
	if i <= 0 || !strings.HasSuffix(k, "]") {
		return "", "", false
	}
	key, cat = k[:i], k[i+1:len(k)-1]
	return key, cat, isCategory(cat)
}

// Keys returns the locale's keys, sorted.
func (l *Locale) Keys() []string {
	keys := make([]string, 0, len(l.Messages))
	for k := range l.Messages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Table returns every string of the locale in one map: a plain string under
// its key, plural forms under "key[category]".
func (l *Locale) Table() map[string]string {
	t := make(map[string]string, len(l.Messages))
	for k, m := range l.Messages {
		if !m.Plural() {
			t[k] = m.Other
			continue
		}
		for cat, s := range m.Forms {
			t[k+"["+cat+"]"] = s
		}
	}
	return t
}

// Marshal returns the locale as a file that Parse reads back, keys sorted,
// with header as a leading comment (one "# " line per line of header).
func (l *Locale) Marshal(header string) []byte {
	var b bytes.Buffer
	if header != "" {
		for _, line := range strings.Split(strings.TrimRight(header, "\n"), "\n") {
			b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "locale = %s\n\n[strings]\n", quote(l.Name))
	for _, k := range l.Keys() {
		m := l.Messages[k]
		b.WriteString(quote(k))
		b.WriteString(" = ")
		if !m.Plural() {
			b.WriteString(quoteValue(m.Other))
			b.WriteString("\n")
			continue
		}
		b.WriteString("{ ")
		first := true
		for _, cat := range []string{Zero, One, Two, Few, Many, Other} {
			s, ok := m.Forms[cat]
			if !ok {
				continue
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(cat + " = " + quote(s))
		}
		b.WriteString(" }\n")
	}
	return b.Bytes()
}

// quote writes s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u` + fmt.Sprintf("%04X", r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// quoteValue writes s as a TOML string, multi-line when it has newlines.
func quoteValue(s string) string {
	if !strings.Contains(s, "\n") {
		return quote(s)
	}
	var b strings.Builder
	b.WriteString("\"\"\"\n")
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u` + fmt.Sprintf("%04X", r))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString("\"\"\"")
	return b.String()
}

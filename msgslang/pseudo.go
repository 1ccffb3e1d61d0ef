package msgslang

import (
	"strings"
	"unicode/utf8"

	"github.com/oemkit/messenger/feature/strsafe"
)

// pseudoGrowth is how much longer a pseudo-localized line gets, in percent:
// translations are often this much longer than English.
const pseudoGrowth = 40

// accents maps ASCII letters to accented look-alikes (each transliterates
// back to its letter on an ASCII console).
var accents = map[rune]rune{
	'a': 'å', 'b': 'ƀ', 'c': 'ç', 'd': 'ď', 'e': 'é', 'f': 'ƒ', 'g': 'ĝ',
	'h': 'ĥ', 'i': 'î', 'j': 'ĵ', 'k': 'ķ', 'l': 'ļ', 'm': 'ḿ', 'n': 'ñ',
	'o': 'ø', 'p': 'ƥ', 'r': 'ŕ', 's': 'š', 't': 'ţ', 'u': 'û', 'v': 'ṽ',
	'w': 'ŵ', 'x': 'ẋ', 'y': 'ý', 'z': 'ž',
	'A': 'Å', 'B': 'Ɓ', 'C': 'Ç', 'D': 'Ď', 'E': 'É', 'F': 'Ƒ', 'G': 'Ĝ',
	'H': 'Ĥ', 'I': 'Î', 'J': 'Ĵ', 'K': 'Ķ', 'L': 'Ļ', 'M': 'Ḿ', 'N': 'Ñ',
	'O': 'Ø', 'P': 'Ƥ', 'R': 'Ŕ', 'S': 'Š', 'T': 'Ţ', 'U': 'Û', 'V': 'Ṽ',
	'W': 'Ŵ', 'X': 'Ẋ', 'Y': 'Ý', 'Z': 'Ž',
}

// PseudoString pseudo-localizes s for layout testing: letters get accents,
// every line grows by about 40% (" !!!"), and the whole string is wrapped in
// [ ] so cut-off text is easy to spot. Format directives such as %-30s or
// %[2]q are kept exactly, in order.
func PseudoString(s string) string {
	var b strings.Builder
	b.WriteByte('[')
	lines := strings.Split(s, "\n")
	// A trailing newline stays outside the brackets.
	trailing := len(lines) > 1 && lines[len(lines)-1] == ""
	if trailing {
		lines = lines[:len(lines)-1]
	}
	for li, line := range lines {
		if li > 0 {
			b.WriteByte('\n')
		}
		dirs := strsafe.Parse(line)
		visible := 0
		for i := 0; i < len(line); {
			if line[i] == '%' && len(dirs) > 0 && strings.HasPrefix(line[i:], dirs[0].Text) {
				b.WriteString(dirs[0].Text)
				i += len(dirs[0].Text)
				dirs = dirs[1:]
				continue
			}
			r, n := utf8.DecodeRuneInString(line[i:])
			i += n
			visible++
			if a, ok := accents[r]; ok {
				r = a
			}
			b.WriteRune(r)
		}
		if pad := (visible*pseudoGrowth + 99) / 100; pad > 0 {
			b.WriteByte(' ')
			b.WriteString(strings.Repeat("!", pad))
		}
	}
	b.WriteByte(']')
	if trailing {
		b.WriteByte('\n')
	}
	return b.String()
}

// PseudoLocale returns the pseudo-locale (qps-ploc) made from src.
func PseudoLocale(src *Locale) *Locale {
	p := &Locale{Name: Pseudo, Messages: make(map[string]Message, len(src.Messages))}
	for k, m := range src.Messages {
		pm := Message{Other: PseudoString(m.Other)}
		if m.Plural() {
			pm.Forms = make(map[string]string, len(m.Forms))
			for cat, s := range m.Forms {
				pm.Forms[cat] = PseudoString(s)
			}
		}
		p.Messages[k] = pm
	}
	return p
}

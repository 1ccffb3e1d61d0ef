package stdio

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Writer writes UTF-8 text to a console. For a UTF-8 console it passes
// bytes through; for an ASCII console it transliterates. Text that needs
// what follows to be transliterated (an incomplete UTF-8 sequence, a kana
// that may combine with the next one) is held back until the next Write or
// Flush, so splitting text across Writes never changes the output. Lines
// ending in '\n' are never held back. Safe for concurrent use.
type Writer struct {
	w   io.Writer
	enc Encoding

	mu      sync.Mutex
	pending []byte
	t       translit
}

// NewWriter returns a Writer for a console with encoding enc.
func NewWriter(w io.Writer, enc Encoding) *Writer {
	return &Writer{w: w, enc: enc}
}

// Encoding returns the console encoding the Writer writes for.
func (w *Writer) Encoding() Encoding { return w.enc }

// Write writes p, transliterated for an ASCII console.
func (w *Writer) Write(p []byte) (int, error) {
	if w.enc != ASCII {
		return w.w.Write(p)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, p...)
	out, n := w.t.convert(nil, w.pending, false)
	w.pending = append(w.pending[:0], w.pending[n:]...)
	if len(out) > 0 {
		if _, err := w.w.Write(out); err != nil {
			return len(p), fmt.Errorf("stdio: %w", err)
		}
	}
	return len(p), nil
}

// Flush writes any held-back text.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) == 0 {
		return nil
	}
	out, _ := w.t.convert(nil, w.pending, true)
	w.pending = w.pending[:0]
	if _, err := w.w.Write(out); err != nil {
		return fmt.Errorf("stdio: %w", err)
	}
	return nil
}

// translit is the transliteration state carried across Writes.
type translit struct {
	vowel byte // last romaji vowel, repeated by the long-vowel mark
}

// convert appends the ASCII for src to dst and returns it with the number
// of bytes of src consumed. Unless final, it stops before text whose
// transliteration depends on bytes not yet seen.
func (t *translit) convert(dst, src []byte, final bool) ([]byte, int) {
	i := 0
	for i < len(src) {
		c := src[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			t.vowel = 0
			i++
			continue
		}
		if !final && !utf8.FullRune(src[i:]) {
			return dst, i
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			dst = append(dst, '?')
			t.vowel = 0
			i++
			continue
		}
		h, isKana := hiragana(r)
		if !isKana && r != choon {
			dst = append(dst, ascii(r)...)
			t.vowel = 0
			i += n
			continue
		}
		// Kana: may need the next rune.
		var next rune = -1
		if i+n < len(src) {
			if !final && !utf8.FullRune(src[i+n:]) {
				return dst, i
			}
			next, _ = utf8.DecodeRune(src[i+n:])
		} else if !final && isKana {
			return dst, i
		}
		nh, nextKana := hiragana(next)
		var s string
		used := n
		switch {
		case r == choon:
			s = "-"
			if t.vowel != 0 {
				s = string(t.vowel)
			}
		case h == sokuon:
			if nextKana && nh != sokuon && nh != hatsu {
				first := kana[nh-0x3041]
				switch {
				case strings.HasPrefix(first, "ch"):
					s = "t"
				case first != "" && !isVowel(first[0]):
					s = first[:1]
				}
			}
		case h == hatsu:
			s = "n"
			if nextKana && nh != sokuon && nh != hatsu {
				if f := kana[nh-0x3041]; f != "" && (isVowel(f[0]) || f[0] == 'y') {
					s = "n'"
				}
			}
		default:
			s = kana[h-0x3041]
			if nextKana {
				if combined, ok := combine(s, nh); ok {
					s = combined
					used += utf8.RuneLen(next)
				}
			}
		}
		dst = append(dst, s...)
		if s != "" && isVowel(s[len(s)-1]) {
			t.vowel = s[len(s)-1]
		} else if r != choon {
			t.vowel = 0
		}
		i += used
	}
	return dst, i
}

// combine joins a syllable with a following small kana (yōon like kya,
// sha; loanword sounds like fa, ti, we), if they combine.
func combine(base string, small rune) (string, bool) {
	if smallY(small) {
		y := kana[small-0x3041] // "ya", "yu", "yo"
		switch base {
		case "shi", "chi", "ji":
			return base[:len(base)-1] + y[1:], true
		}
		if len(base) == 2 && base[1] == 'i' && base != "ii" {
			return base[:1] + y, true
		}
		return "", false
	}
	if !smallVowel(small) {
		return "", false
	}
	v := kana[small-0x3041] // "a", "i", "u", "e", "o"
	switch {
	case base == "fu" || base == "vu" || base == "tsu":
		return base[:len(base)-1] + v, true
	case (base == "te" || base == "de") && v == "i":
		return base[:1] + v, true
	case (base == "to" || base == "do") && v == "u":
		return base[:1] + v, true
	case base == "u" && v != "u":
		return "w" + v, true
	case (base == "shi" || base == "chi" || base == "ji") && v == "e":
		return base[:len(base)-1] + v, true
	case base == "i" && v == "e":
		return "ye", true
	}
	return "", false
}

func isVowel(c byte) bool {
	return c == 'a' || c == 'i' || c == 'u' || c == 'e' || c == 'o'
}

// ascii returns the ASCII for a non-ASCII, non-kana rune.
func ascii(r rune) string {
	switch {
	case r >= 0xa0 && r <= 0xff:
		return latin1[r-0xa0]
	case r >= 0x100 && r <= 0x17f:
		return latinExtA[r-0x100]
	case r >= 0xff01 && r <= 0xff5e:
		return string(rune(r - 0xfee0)) // fullwidth ASCII
	}
	if s, ok := other[r]; ok {
		return s
	}
	if r < 0xa0 {
		return "?" // C1 controls
	}
	if r > 0xffff {
		return fmt.Sprintf("\\U%08x", r)
	}
	return fmt.Sprintf("\\u%04x", r)
}

package strsafe

import (
	"strings"
	"unicode/utf8"
)

// Directive is one %-directive of a format string.
type Directive struct {
	Text     string // the directive as written, e.g. "%-30s" or "%[2]d"
	Flags    string // any of "+-# 0"
	Width    int    // -1 when absent or taken from an argument
	Prec     int    // -1 when absent or taken from an argument
	WidthArg int    // 1-based argument holding the width ('*'), else 0
	PrecArg  int    // 1-based argument holding the precision ('*'), else 0
	Verb     rune   // the verb; '%' for a literal percent sign
	Arg      int    // 1-based argument the verb formats; 0 for "%%"
	Indexed  bool   // an explicit argument index ("%[n]") was used
	Bad      bool   // malformed (lone '%', broken index): shown literally

	next int // 0-based argument number after this directive
}

// Parse returns the directives of format in order, including "%%" and bad
// ones, numbering arguments the way fmt does (an explicit %[n] index moves
// the position; '*' consumes an argument).
func Parse(format string) []Directive {
	var out []Directive
	argNum := 0
	for i := 0; i < len(format); {
		j := strings.IndexByte(format[i:], '%')
		if j < 0 {
			break
		}
		i += j
		d, n := parseDirective(format[i:], argNum)
		i += n
		if !d.Bad && d.Verb != '%' {
			argNum = d.next
		}
		out = append(out, d)
	}
	return out
}

// maxIndex bounds explicit argument indexes.
const maxIndex = 1 << 20

// parseDirective parses the directive at the start of s (s[0] == '%') with
// argNum the 0-based next argument. It returns the directive and its length.
func parseDirective(s string, argNum int) (Directive, int) {
	d := Directive{Width: -1, Prec: -1}
	i := 1
	bad := func() (Directive, int) {
		// Show everything up to and including the verb literally.
		for i < len(s) && !isVerbEnd(s[i]) {
			i++
		}
		if i < len(s) {
			_, n := utf8.DecodeRuneInString(s[i:])
			i += n
		}
		return Directive{Text: s[:i], Bad: true, Width: -1, Prec: -1}, i
	}
	for i < len(s) && strings.IndexByte("+-# 0", s[i]) >= 0 {
		i++
	}
	d.Flags = s[1:i]
	// index reads an optional "[n]" and moves argNum.
	index := func() bool {
		if i >= len(s) || s[i] != '[' {
			return true
		}
		end := strings.IndexByte(s[i:], ']')
		if end < 0 {
			return false
		}
		n, ok := atoi(s[i+1 : i+end])
		if !ok || n < 1 || n > maxIndex {
			return false
		}
		argNum = n - 1
		d.Indexed = true
		i += end + 1
		return true
	}
	// number reads a width or precision: digits, or '*' taking an argument.
	number := func() (val, arg int, ok bool) {
		if i < len(s) && s[i] == '*' {
			i++
			argNum++
			return -1, argNum, true
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if start == i {
			return -1, 0, true
		}
		n, ok := atoi(s[start:i])
		if !ok {
			return 0, 0, false
		}
		return n, 0, true
	}
	var ok bool
	if !index() {
		return bad()
	}
	if d.Width, d.WidthArg, ok = number(); !ok {
		return bad()
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !index() {
			return bad()
		}
		if d.Prec, d.PrecArg, ok = number(); !ok {
			return bad()
		}
		if d.Prec < 0 && d.PrecArg == 0 {
			d.Prec = 0 // "%.f" means precision 0, as in fmt
		}
	}
	if !index() {
		return bad()
	}
	if i >= len(s) {
		return bad()
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	i += n
	d.Verb = r
	d.Text = s[:i]
	if r == '%' {
		return d, i
	}
	argNum++
	d.Arg = argNum
	d.next = argNum
	return d, i
}

func isVerbEnd(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '%'
}

func atoi(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

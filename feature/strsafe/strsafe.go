// Package strsafe is the "String Safe Utility Functions" catalog item
// (SYSGEN_STRSAFE): length-bounded string formatting that never panics and
// never shows fmt's "%!v(...)" diagnostics to a user.
//
// Format accepts the fmt verb syntax (flags, width, precision, '*', explicit
// argument indexes like %[2]s) with these safety rules, chosen so that a bad
// translation or a wrong call shows readable text instead of garbage:
//
//   - The result is at most max bytes. A longer result is cut on a UTF-8
//     boundary and ends with Ellipsis, counted inside the bound (when max is
//     smaller than the ellipsis, the text is cut without one).
//   - A verb that does not fit its argument's type (%d with a string, %s with
//     an int) shows the argument as %v would, keeping flags and width.
//   - A verb without an argument shows as MissingArg ("?"); a nil argument
//     shows as "".
//   - Extra arguments are ignored; an unknown verb (%z) shows its argument as
//     %v; a lone trailing '%' or a broken %[...] index is shown literally.
//   - A String, Error or Format method that panics shows as MissingArg.
//   - Width and precision are clamped to just over max, so "%999999999d" cannot make
//     Format allocate more than the bound.
package strsafe

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Ellipsis ends a result that was cut to fit its bound.
const Ellipsis = "…"

// MissingArg is shown for a verb whose argument is missing or unprintable.
const MissingArg = "?"

// Format formats like fmt.Sprintf but returns at most max bytes, never
// panics, and renders bad arguments as described in the package comment.
// A max of zero or less returns "".
func Format(max int, format string, args ...any) string {
	if max <= 0 {
		return ""
	}
	if max > math.MaxInt/2 {
		max = math.MaxInt / 2 // no overflow below; no output is this long
	}
	var b strings.Builder
	// Stop formatting once the output is certainly too long: a little over
	// max lets Truncate decide where to cut and add the ellipsis.
	limit := max + utf8.UTFMax
	argNum := 0
	for i := 0; i < len(format); {
		if b.Len() > limit {
			break
		}
		j := strings.IndexByte(format[i:], '%')
		if j < 0 {
			b.WriteString(format[i:])
			break
		}
		b.WriteString(format[i : i+j])
		i += j
		d, n := parseDirective(format[i:], argNum)
		i += n
		if d.Bad {
			b.WriteString(d.Text)
			continue
		}
		if d.Verb == '%' {
			b.WriteByte('%')
			continue
		}
		argNum = d.next
		width, prec := d.Width, d.Prec
		if d.WidthArg > 0 {
			width = intArg(args, d.WidthArg)
		}
		if d.PrecArg > 0 {
			prec = intArg(args, d.PrecArg)
		}
		if d.Arg > len(args) {
			b.WriteString(MissingArg)
			continue
		}
		b.WriteString(render(d, clamp(width, max), clamp(prec, max), limit, args[d.Arg-1]))
	}
	return Truncate(b.String(), max)
}

// Truncate returns s cut to at most max bytes on a UTF-8 boundary, ending
// with Ellipsis when it was cut and max leaves room for it.
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if len(s) <= max {
		return s
	}
	keep := max - len(Ellipsis)
	tail := Ellipsis
	if keep < 0 {
		keep, tail = max, ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + tail
}

// clamp bounds a width or precision to just over max: the output is cut at
// max anyway, so the visible result is the same as unclamped.
func clamp(v, max int) int {
	if v > max+1 {
		return max + 1
	}
	return v
}

// intArg returns argument n (1-based) as a width or precision, or -1 when it
// is missing or not an integer.
func intArg(args []any, n int) int {
	if n > len(args) {
		return -1
	}
	v := reflect.ValueOf(args[n-1])
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x := v.Int(); x >= 0 && x <= 1<<30 {
			return int(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if x := v.Uint(); x <= 1<<30 {
			return int(x)
		}
	}
	return -1
}

// render formats one argument with one directive. A string longer than
// limit is cut first: only its start can show.
func render(d Directive, width, prec, limit int, arg any) (out string) {
	defer func() {
		if recover() != nil {
			out = MissingArg
		}
	}()
	if arg == nil {
		return ""
	}
	verb := d.Verb
	// Methods: fmt calls Error and String for these verbs; call them here
	// so a panic shows as MissingArg instead of "%!v(PANIC=...)".
	if _, isFormatter := arg.(fmt.Formatter); !isFormatter && strings.ContainsRune("vsqxX", verb) {
		switch v := arg.(type) {
		case error:
			arg = callString(v.Error)
		case fmt.Stringer:
			arg = callString(v.String)
		}
	}
	if !fits(verb, arg) {
		verb = 'v'
	}
	if str, ok := arg.(string); ok && len(str) > limit && (verb == 's' || verb == 'v' || verb == 'q') {
		cut := limit
		for cut > 0 && !utf8.RuneStart(str[cut]) {
			cut--
		}
		arg = str[:cut]
	}
	spec := spec(d.Flags, width, prec, verb)
	s := fmt.Sprintf(spec, arg)
	if strings.HasPrefix(s, "%!") {
		if _, isString := arg.(string); !isString {
			if verb != 'v' {
				s = fmt.Sprintf(spec[:len(spec)-1]+"v", arg)
			}
			if strings.HasPrefix(s, "%!") {
				return MissingArg
			}
		}
	}
	return s
}

func callString(f func() string) (s string) {
	defer func() {
		if recover() != nil {
			s = MissingArg
		}
	}()
	return f()
}

func spec(flags string, width, prec int, verb rune) string {
	var b strings.Builder
	b.WriteByte('%')
	b.WriteString(flags)
	if width >= 0 {
		b.WriteString(strconv.Itoa(width))
	}
	if prec >= 0 {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(prec))
	}
	b.WriteRune(verb)
	return b.String()
}

// fits reports whether verb formats arg's type without a fmt diagnostic.
func fits(verb rune, arg any) bool {
	if _, ok := arg.(fmt.Formatter); ok {
		return true
	}
	k := reflect.TypeOf(arg).Kind()
	isInt := k >= reflect.Int && k <= reflect.Uintptr
	isFloat := k == reflect.Float32 || k == reflect.Float64 || k == reflect.Complex64 || k == reflect.Complex128
	isStr := k == reflect.String || isBytes(arg)
	switch verb {
	case 'v', 'T':
		return true
	case 's', 'q':
		return isStr || (verb == 'q' && isInt)
	case 'd', 'o', 'O', 'c', 'U', 'b':
		return isInt || (verb == 'b' && isFloat)
	case 'x', 'X':
		return isInt || isFloat || isStr
	case 'e', 'E', 'f', 'F', 'g', 'G':
		return isFloat
	case 't':
		return k == reflect.Bool
	case 'p':
		return k == reflect.Pointer || k == reflect.Chan || k == reflect.Func ||
			k == reflect.Map || k == reflect.Slice || k == reflect.UnsafePointer
	}
	return false
}

func isBytes(arg any) bool {
	t := reflect.TypeOf(arg)
	return (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t.Elem().Kind() == reflect.Uint8
}

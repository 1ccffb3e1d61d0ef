package strsafe

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

type panicky struct{}

func (panicky) String() string { panic("boom") }

type panicErr struct{}

func (panicErr) Error() string { panic("boom") }

type stringer int

func (s stringer) String() string { return fmt.Sprintf("S%d", int(s)) }

type panicFormatter struct{}

func (panicFormatter) Format(fmt.State, rune) { panic("boom") }

func TestFormat(t *testing.T) {
	var nilPtr *int
	tests := []struct {
		name   string
		max    int
		format string
		args   []any
		want   string
	}{
		{"plain", 100, "hello", nil, "hello"},
		{"verbs", 100, "* %s (%s) is now %s", []any{"Bob", "bob@x", "Busy"}, "* Bob (bob@x) is now Busy"},
		{"width", 100, "[%-6s|%4d]", []any{"ab", 7}, "[ab    |   7]"},
		{"indexed", 100, "%[2]s von %[1]s", []any{"a", "b"}, "b von a"},
		{"indexed then implicit", 100, "%[2]s %s", []any{"a", "b", "c"}, "b c"},
		{"percent", 100, "100%% %s", []any{"x"}, "100% x"},
		{"quote", 100, "unknown %q", []any{"x y"}, `unknown "x y"`},
		{"duration", 100, "within %v", []any{1500 * 1e6}, "within 1.5e+09"},
		{"missing arg", 100, "%s and %s", []any{"a"}, "a and ?"},
		{"no args", 100, "%s", nil, "?"},
		{"extra args", 100, "%s", []any{"a", "b"}, "a"},
		{"wrong type d", 100, "n=%d", []any{"abc"}, "n=abc"},
		{"wrong type s", 100, "s=%s", []any{42}, "s=42"},
		{"wrong type keeps width", 100, "[%5s]", []any{42}, "[   42]"},
		{"wrong type f", 100, "%.1f", []any{"x"}, "x"},
		{"bool t", 100, "%t", []any{true}, "true"},
		{"unknown verb", 100, "%z!", []any{3}, "3!"},
		{"nil arg", 100, "[%s]", []any{nil}, "[]"},
		{"nil pointer", 100, "[%d]", []any{nilPtr}, "[<nil>]"},
		{"error", 100, "failed: %v", []any{errors.New("eof")}, "failed: eof"},
		{"stringer", 100, "%s/%d", []any{stringer(3), stringer(4)}, "S3/4"},
		{"panicking String", 100, "a%sb", []any{panicky{}}, "a?b"},
		{"panicking Error", 100, "a%vb", []any{panicErr{}}, "a?b"},
		{"panicking Format", 100, "a%vb", []any{panicFormatter{}}, "a?b"},
		{"trailing percent", 100, "50%", nil, "50%"},
		{"bad index", 100, "%[x]s!", []any{"a"}, "%[x]s!"},
		{"zero index", 100, "%[0]d", []any{1}, "%[0]d"},
		{"star width", 100, "[%*d]", []any{3, 7}, "[  7]"},
		{"star width missing", 100, "[%*d]", []any{3}, "[?]"},
		{"star width not int", 100, "[%*d]", []any{"x", 7}, "[7]"},
		{"huge width clamped", 10, "%999999999d", []any{1}, "       …"},
		{"huge precision clamped", 8, "%.999999999f", []any{1.0}, "1.000…"},
		{"cut ascii", 10, "%s", []any{"abcdefghijklmnop"}, "abcdefg…"},
		{"cut on rune boundary", 8, "%s", []any{"äöüäöü"}, "äö…"},
		{"fits exactly", 6, "äöü", nil, "äöü"},
		{"tiny bound no ellipsis", 2, "abcdef", nil, "ab"},
		{"tiny bound rune", 1, "äb", nil, ""},
		{"zero bound", 0, "abc", nil, ""},
		{"max int bound", math.MaxInt, "%s%5d", []any{"abc", 1}, "abc    1"},
		{"negative bound", -5, "abc", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Format(tt.max, tt.format, tt.args...)
			if got != tt.want {
				t.Errorf("Format(%d, %q, %v) = %q, want %q", tt.max, tt.format, tt.args, got, tt.want)
			}
		})
	}
}

func TestFormatHugeArg(t *testing.T) {
	huge := strings.Repeat("ä", 1<<20)
	for _, verb := range []string{"%s", "%v", "%q", "%-5s", "%.3s"} {
		got := Format(11, "x"+verb, huge)
		want := Truncate(fmt.Sprintf("x"+verb, huge), 11)
		if got != want {
			t.Errorf("Format(11, %q, huge) = %q, want %q", "x"+verb, got, want)
		}
	}
}

func TestFormatMatchesSprintf(t *testing.T) {
	// For well-formed calls Format is exactly fmt.Sprintf.
	tests := []struct {
		format string
		args   []any
	}{
		{"  %-30s %-16s %s%s", []any{"alice@example.com", "Online", "Alice", " [blocked]"}},
		{"%+d %x %X %o %b %c %U", []any{5, 255, 255, 8, 5, 'ä', 'ä'}},
		{"%08.3f|%e|%g", []any{3.14159, 1e6, 0.5}},
		{"%q %x % x", []any{"a\"b", "hi", []byte("hi")}},
		{"%[3]*.[2]*[1]f", []any{12.0, 2, 6}},
		{"%v %v", []any{[]int{1, 2}, map[string]int{"a": 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			got, want := Format(1000, tt.format, tt.args...), fmt.Sprintf(tt.format, tt.args...)
			if got != want {
				t.Errorf("Format(1000, %q, ...) = %q, want %q", tt.format, got, want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello!", 5, "he…"},
		{"日本語テキスト", 9, "日本…"},
		{"日本語", 2, ""},
		{"ab", 0, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.s, tt.max); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.max, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	type dir struct {
		Verb    rune
		Arg     int
		Indexed bool
		Bad     bool
	}
	tests := []struct {
		format string
		want   []dir
	}{
		{"no verbs", nil},
		{"%s %d", []dir{{'s', 1, false, false}, {'d', 2, false, false}}},
		{"%[2]s %[1]s %s", []dir{{'s', 2, true, false}, {'s', 1, true, false}, {'s', 2, false, false}}},
		{"100%% %v", []dir{{'%', 0, false, false}, {'v', 1, false, false}}},
		{"%*d", []dir{{'d', 2, false, false}}},
		{"%", []dir{{0, 0, false, true}}},
		{"%[a]d", []dir{{0, 0, false, true}}},
		{"%-30s", []dir{{'s', 1, false, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			var got []dir
			for _, d := range Parse(tt.format) {
				got = append(got, dir{d.Verb, d.Arg, d.Indexed, d.Bad})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.format, diff)
			}
		})
	}
}

func FuzzFormat(f *testing.F) {
	f.Add(20, "* %s (%s) is now %s", "Bob", 3)
	f.Add(5, "%[2]*[1]d|%-30s", "äöü", -1)
	f.Add(100, "%.999999f %[0]d %[", "x", 1<<30)
	f.Add(3, "日本語テキスト %q", "\xff", 0)
	f.Add(64, "%!v(PANIC) %x %U %c", "", 9999999)
	f.Fuzz(func(t *testing.T, max int, format, s string, n int) {
		if max > 1<<16 {
			max %= 1 << 16
		}
		out := Format(max, format, s, n, panicky{}, nil, 2.5)
		bound := max
		if bound < 0 {
			bound = 0
		}
		if len(out) > bound {
			t.Fatalf("Format(%d, %q, ...) = %d bytes, want <= %d", max, format, len(out), bound)
		}
		if utf8.ValidString(format) && utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("Format(%d, %q, %q) = %q, not valid UTF-8", max, format, s, out)
		}
		// fmt's diagnostics start "%!" ("%!d(string=x)", "%!(EXTRA ...)").
		// Unless a literal '%' ("%%", a malformed directive) or an argument
		// supplies a '%' or '!', none may show.
		clean := !strings.ContainsAny(s, "%!") && n != '%' && n != '!'
		for _, d := range Parse(format) {
			clean = clean && !d.Bad && d.Verb != '%'
		}
		if clean && strings.Contains(out, "%!") {
			t.Fatalf("Format(%d, %q, %q) = %q, shows a fmt diagnostic", max, format, s, out)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"%s", "%[2]*.[1]*[3]d", "%", "%[", "%[99999999999]d", "a%%b%-08.3f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, format string) {
		for _, d := range Parse(format) {
			if !strings.Contains(format, d.Text) {
				t.Fatalf("Parse(%q): directive text %q not in format", format, d.Text)
			}
			if !d.Bad && d.Verb != '%' && d.Arg < 1 {
				t.Fatalf("Parse(%q): directive %q has argument %d", format, d.Text, d.Arg)
			}
		}
	})
}

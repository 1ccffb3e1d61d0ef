// Package check verifies locale files against the source strings: every
// key exists in every locale, no locale has stale keys, format verbs and
// placeholders match, and plural forms are complete. msgslangcheck and the
// tests run it; an OEM runs it on their own translations.
package check

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemkit/messenger/feature/strsafe"
	"github.com/oemkit/messenger/msgslang"
)

// Problem is one finding.
type Problem struct {
	File string // file name, e.g. "de-DE.toml"
	Key  string // empty for problems with the whole file
	Msg  string // what is wrong and how to fix it
}

func (p Problem) String() string {
	if p.Key == "" {
		return p.File + ": " + p.Msg
	}
	return fmt.Sprintf("%s: %q: %s", p.File, p.Key, p.Msg)
}

// Dir checks every *.toml locale file in dir against source (the strings
// the program uses, e.g. msgslang.FromTable of msmsgs's built-in English,
// or the en-US file). It returns the problems sorted by file and key; the
// error is only for an unreadable dir.
func Dir(dir string, source *msgslang.Locale) ([]Problem, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*"+msgslang.Ext))
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var probs []Problem
	if len(files) == 0 {
		probs = append(probs, Problem{File: dir, Msg: "no locale files (*.toml)"})
	}
	for _, path := range files {
		base := filepath.Base(path)
		l, err := msgslang.ReadFile(path)
		if err != nil {
			probs = append(probs, Problem{File: base, Msg: err.Error()})
			continue
		}
		if want := msgslang.FileName(l.Name); want != base {
			probs = append(probs, Problem{File: base, Msg: fmt.Sprintf("declares locale = %q; rename the file to %s or fix the locale line", l.Name, want)})
		}
		probs = append(probs, Locale(base, l, source)...)
	}
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].File != probs[j].File {
			return probs[i].File < probs[j].File
		}
		return probs[i].Key < probs[j].Key
	})
	return probs, nil
}

// Locale checks one parsed locale (from file) against source.
func Locale(file string, l *msgslang.Locale, source *msgslang.Locale) []Problem {
	var probs []Problem
	add := func(key, format string, args ...any) {
		probs = append(probs, Problem{File: file, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	for _, key := range source.Keys() {
		if _, ok := l.Messages[key]; !ok {
			add(key, "missing; add a translation of %q", source.Messages[key].Other)
		}
	}
	cats := msgslang.PluralCategories(l.Name)
	for _, key := range l.Keys() {
		sm, ok := source.Messages[key]
		if !ok {
			add(key, "stale key: the program no longer uses it; delete it")
			continue
		}
		src := sm.Other
		m := l.Messages[key]
		if sm.Plural() && !m.Plural() {
			add(key, "needs plural forms: write { %s = \"...\" }", strings.Join(cats, " = \"...\", "))
			continue
		}
		if !sm.Plural() && m.Plural() {
			add(key, "is not a plural string: give one string, not plural forms")
			continue
		}
		if !m.Plural() {
			if m.Other == "" && src != "" {
				add(key, "empty string; translate %q", src)
				continue
			}
			for _, p := range compare(src, m.Other, true) {
				add(key, "%s", p)
			}
			continue
		}
		var missing, extra []string
		for _, c := range cats {
			if _, ok := m.Forms[c]; !ok {
				missing = append(missing, c)
			}
		}
		for c := range m.Forms {
			if !contains(cats, c) {
				extra = append(extra, c)
			}
		}
		sort.Strings(extra)
		if len(missing) > 0 {
			add(key, "plural forms incomplete: %s needs %s, missing %s", l.Name, strings.Join(cats, ", "), strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			add(key, "plural form %s is never used in %s (it uses %s); delete it", strings.Join(extra, ", "), l.Name, strings.Join(cats, ", "))
		}
		for _, c := range []string{msgslang.Zero, msgslang.One, msgslang.Two, msgslang.Few, msgslang.Many, msgslang.Other} {
			s, ok := m.Forms[c]
			if !ok {
				continue
			}
			// Only "other" must show every argument: "one contact" may
			// leave out the count.
			for _, p := range compare(src, s, c == msgslang.Other) {
				add(key, "plural form %s: %s", c, p)
			}
		}
	}
	return probs
}

// verbs maps each argument (1-based) to the verbs that format it.
func verbs(format string) (map[int][]rune, []string) {
	args := map[int][]rune{}
	var bad []string
	for _, d := range strsafe.Parse(format) {
		switch {
		case d.Bad:
			bad = append(bad, fmt.Sprintf("malformed directive %q (write %%%% for a percent sign)", d.Text))
		case d.Verb == '%':
		default:
			if d.WidthArg > 0 {
				args[d.WidthArg] = append(args[d.WidthArg], '*')
			}
			if d.PrecArg > 0 {
				args[d.PrecArg] = append(args[d.PrecArg], '*')
			}
			args[d.Arg] = append(args[d.Arg], d.Verb)
		}
	}
	return args, bad
}

// compare checks that translation formats the same arguments with the same
// verbs as source: in the same order, or reordered with %[n] indexes. With
// all, every argument of source must appear.
func compare(source, translation string, all bool) []string {
	sv, _ := verbs(source)
	tv, bad := verbs(translation)
	probs := bad
	for _, n := range sortedInts(tv) {
		want, ok := sv[n]
		if !ok {
			probs = append(probs, fmt.Sprintf("placeholder for argument %d (%s) has no argument: the source has %d; remove it", n, verbList(tv[n]), len(sv)))
			continue
		}
		for _, v := range tv[n] {
			if !containsRune(want, v) {
				probs = append(probs, fmt.Sprintf("argument %d is formatted with %%%c, the source uses %s; use the same verb", n, v, verbList(want)))
			}
		}
	}
	if all {
		for _, n := range sortedInts(sv) {
			if _, ok := tv[n]; !ok {
				probs = append(probs, fmt.Sprintf("argument %d (%s in the source) is not shown; add it (use %%[%d]%c to reorder)", n, verbList(sv[n]), n, sv[n][0]))
			}
		}
	}
	if n, m := strings.Count(source, "`"), strings.Count(translation, "`"); n >= 2 && m < 2 {
		probs = append(probs, "the back-quoted `name` (shown as the flag's value name) is missing; keep one `...` pair")
	}
	return probs
}

func verbList(vs []rune) string {
	var parts []string
	for _, v := range vs {
		if v == '*' {
			parts = append(parts, "* width")
			continue
		}
		parts = append(parts, "%"+string(v))
	}
	return strings.Join(parts, ", ")
}

func sortedInts(m map[int][]rune) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsRune(list []rune, r rune) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

// Changed reports, for every locale file in dir other than the source,
// the keys whose source text differs between old (the source the
// translations were made from, e.g. last release's en-US.toml) and source:
// those translations need a second look.
func Changed(dir string, old, source *msgslang.Locale) ([]Problem, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*"+msgslang.Ext))
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	var changed []string
	for _, key := range source.Keys() {
		o, ok := old.Messages[key]
		if ok && !sameMessage(o, source.Messages[key]) {
			changed = append(changed, key)
		}
	}
	var probs []Problem
	for _, path := range files {
		base := filepath.Base(path)
		l, err := msgslang.ReadFile(path)
		if err != nil || l.Name == source.Name {
			continue // Dir reports unreadable files
		}
		for _, key := range changed {
			if _, ok := l.Messages[key]; ok {
				probs = append(probs, Problem{File: base, Key: key, Msg: fmt.Sprintf("source text changed: was %q, now %q; update the translation", old.Messages[key].Other, source.Messages[key].Other)})
			}
		}
	}
	return probs, nil
}

func sameMessage(a, b msgslang.Message) bool {
	if a.Other != b.Other || len(a.Forms) != len(b.Forms) {
		return false
	}
	for c, s := range a.Forms {
		if b.Forms[c] != s {
			return false
		}
	}
	return true
}

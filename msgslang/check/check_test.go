package check

import (
	"strings"
	"testing"

	"github.com/oemkit/messenger/msgslang"
)

func source(t *testing.T, dir string) *msgslang.Locale {
	t.Helper()
	l, err := msgslang.ReadFile(dir + "/en-US.toml")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDir(t *testing.T) {
	tests := []struct {
		dir  string
		want []string // one substring per expected problem
	}{
		{"testdata/good", nil},
		{"testdata/missing-key", []string{`de-DE.toml: "con.unknown": missing`}},
		{"testdata/bad-placeholder", []string{`de-DE.toml: "con.presence": argument 3 is formatted with %d, the source uses %s`}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			probs, err := Dir(tt.dir, source(t, tt.dir))
			if err != nil {
				t.Fatal(err)
			}
			if len(probs) != len(tt.want) {
				t.Fatalf("Dir(%s) = %q, want %d problems like %q", tt.dir, probs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(probs[i].String(), w) {
					t.Errorf("Dir(%s) problem %d = %q, want it to contain %q", tt.dir, i, probs[i], w)
				}
			}
		})
	}
}

func TestLocale(t *testing.T) {
	src := &msgslang.Locale{Name: "en-US", Messages: map[string]msgslang.Message{
		"three":  {Other: "* %s (%s) is now %s"},
		"pct":    {Other: "100%% done: %d"},
		"plain":  {Other: "hello"},
		"count":  {Other: "%d contacts", Forms: map[string]string{"one": "one contact", "other": "%d contacts"}},
		"flag":   {Other: "control socket `path`"},
		"star":   {Other: "[%*d]"},
		"quoted": {Other: "unknown %q"},
	}}
	full := func(over map[string]msgslang.Message) map[string]msgslang.Message {
		m := map[string]msgslang.Message{}
		for k, v := range src.Messages {
			m[k] = v
		}
		for k, v := range over {
			if v.Other == "<delete>" {
				delete(m, k)
				continue
			}
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name   string
		locale string
		over   map[string]msgslang.Message
		want   []string
	}{
		{"same as source", "de-DE", nil, nil},
		{"reordered with indexes", "de-DE", map[string]msgslang.Message{"three": {Other: "%[3]s: %[1]s (%[2]s)"}}, nil},
		{"argument used twice", "de-DE", map[string]msgslang.Message{"three": {Other: "%[1]s %[1]s (%[2]s) %[3]s"}}, nil},
		{"missing key", "de-DE", map[string]msgslang.Message{"plain": {Other: "<delete>"}}, []string{`"plain": missing`}},
		{"stale key", "de-DE", map[string]msgslang.Message{"old": {Other: "x"}}, []string{`"old": stale key`}},
		{"wrong verb", "de-DE", map[string]msgslang.Message{"quoted": {Other: "unbekannt %s"}}, []string{`"quoted": argument 1 is formatted with %s, the source uses %q`}},
		{"dropped argument", "de-DE", map[string]msgslang.Message{"three": {Other: "* %s ist jetzt %s"}}, []string{`argument 3 (%s in the source) is not shown`}},
		{"extra argument", "de-DE", map[string]msgslang.Message{"plain": {Other: "hallo %s"}}, []string{`placeholder for argument 1 (%s) has no argument`}},
		{"swapped verbs", "de-DE", map[string]msgslang.Message{"pct": {Other: "%s zu 100%%"}}, []string{`argument 1 is formatted with %s, the source uses %d`}},
		{"lone percent", "de-DE", map[string]msgslang.Message{"pct": {Other: "100% fertig: %d"}}, []string{`"pct": argument 1 is formatted with %f, the source uses %d`, `placeholder for argument 2 (%d) has no argument`}},
		{"malformed index", "de-DE", map[string]msgslang.Message{"quoted": {Other: "unbekannt %[x]q"}}, []string{`malformed directive "%[x"`, `argument 1 (%q in the source) is not shown`}},
		{"star width kept", "de-DE", map[string]msgslang.Message{"star": {Other: "(%*d)"}}, nil},
		{"star width lost", "de-DE", map[string]msgslang.Message{"star": {Other: "(%d)"}}, []string{`argument 1 is formatted with %d, the source uses * width`, `argument 2 (%d in the source) is not shown`}},
		{"empty", "de-DE", map[string]msgslang.Message{"plain": {Other: ""}}, []string{`"plain": empty string`}},
		{"lost backquote name", "de-DE", map[string]msgslang.Message{"flag": {Other: "Steuer-Socket-Pfad"}}, []string{"back-quoted"}},
		{"plural incomplete", "de-DE", map[string]msgslang.Message{"count": {Other: "%d Kontakte", Forms: map[string]string{"other": "%d Kontakte"}}}, []string{`plural forms incomplete: de-DE needs one, other, missing one`}},
		{"plural extra form", "ja-JP", map[string]msgslang.Message{"count": {Other: "%d 件", Forms: map[string]string{"one": "1 件", "other": "%d 件"}}}, []string{`plural form one is never used in ja-JP`}},
		{"plural ja complete", "ja-JP", map[string]msgslang.Message{"count": {Other: "%d 件", Forms: map[string]string{"other": "%d 件"}}}, nil},
		{"plural other needs count", "de-DE", map[string]msgslang.Message{"count": {Other: "Kontakte", Forms: map[string]string{"one": "ein Kontakt", "other": "Kontakte"}}}, []string{`plural form other: argument 1 (%d in the source) is not shown`}},
		{"plural bad verb in one", "de-DE", map[string]msgslang.Message{"count": {Other: "%d Kontakte", Forms: map[string]string{"one": "%s Kontakt", "other": "%d Kontakte"}}}, []string{`plural form one: argument 1 is formatted with %s`}},
		{"plain where plural needed", "de-DE", map[string]msgslang.Message{"count": {Other: "%d Kontakte"}}, []string{`"count": needs plural forms`}},
		{"plural where plain", "de-DE", map[string]msgslang.Message{"plain": {Other: "hallo", Forms: map[string]string{"one": "hallo", "other": "hallo"}}}, []string{`"plain": is not a plural string`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &msgslang.Locale{Name: tt.locale, Messages: full(tt.over)}
			probs := Locale(tt.locale+".toml", l, src)
			if len(probs) != len(tt.want) {
				t.Fatalf("Locale() = %q, want %d problems like %q", probs, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(probs[i].String(), w) {
					t.Errorf("Locale() problem %d = %q, want it to contain %q", i, probs[i], w)
				}
			}
		})
	}
}

func TestChanged(t *testing.T) {
	src := source(t, "testdata/good")
	old := &msgslang.Locale{Name: "en-US", Messages: map[string]msgslang.Message{}}
	for k, m := range src.Messages {
		old.Messages[k] = m
	}
	old.Messages["con.unknown"] = msgslang.Message{Other: "no such command %q"}
	probs, err := Changed("testdata/good", old, src)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range probs {
		got = append(got, p.String())
	}
	want := []string{
		`de-DE.toml: "con.unknown": source text changed: was "no such command %q", now "unknown command %q; type /help"; update the translation`,
		`ja-JP.toml: "con.unknown": source text changed: was "no such command %q", now "unknown command %q; type /help"; update the translation`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Changed() = %q, want %q", got, want)
	}
	if probs, _ := Changed("testdata/good", src, src); len(probs) != 0 {
		t.Errorf("Changed(same source) = %q, want none", probs)
	}
}

package msgslang_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/feature/strsafe"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msgslang/check"
	"github.com/oemkit/messenger/msgslang/gosrc"
)

const (
	localesDir = "locales"
	stringsGo  = "../msmsgs/strings.go"
)

func builtin(t *testing.T) map[string]string {
	t.Helper()
	tab, err := gosrc.ReadFile(stringsGo, "catalog")
	if err != nil {
		t.Fatalf("read msmsgs table: %v", err)
	}
	return tab
}

func readLocale(t *testing.T, name string) *msgslang.Locale {
	t.Helper()
	l, err := msgslang.ReadFile(filepath.Join(localesDir, msgslang.FileName(name)))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSourceMatchesProgram guards that en-US.toml is exactly msmsgs's
// built-in table (run go generate ./msgslang after changing strings.go).
func TestSourceMatchesProgram(t *testing.T) {
	en := readLocale(t, msgslang.Source)
	if diff := cmp.Diff(builtin(t), en.Table()); diff != "" {
		t.Errorf("locales/en-US.toml differs from msmsgs/strings.go (run go generate ./msgslang) (-strings.go +en-US.toml):\n%s", diff)
	}
}

// TestPseudoIsGenerated guards that qps-ploc.toml is the pseudo-locale of
// en-US, and that it lengthens and accents every string.
func TestPseudoIsGenerated(t *testing.T) {
	en := readLocale(t, msgslang.Source)
	ps := readLocale(t, msgslang.Pseudo)
	if diff := cmp.Diff(msgslang.PseudoLocale(en), ps); diff != "" {
		t.Errorf("locales/qps-ploc.toml is stale (run go generate ./msgslang) (-want +got):\n%s", diff)
	}
	for key, m := range en.Messages {
		src, p := m.Other, ps.Messages[key].Other
		// Visible text: without format directives, which stay as they are.
		vs, vp := visible(src), visible(p)
		if n, pn := utf8.RuneCountInString(vs), utf8.RuneCountInString(vp); pn*100 < n*140 {
			t.Errorf("%s: pseudo %q shows %d runes, want >= 140%% of %d", key, p, pn, n)
		}
		if strings.ContainsAny(vs, "abcdefghijklmnoprstuvwxyz") && !hasNonASCII(vp) {
			t.Errorf("%s: pseudo %q has no accented letters", key, p)
		}
		var sv, pv []string
		for _, d := range strsafe.Parse(src) {
			sv = append(sv, d.Text)
		}
		for _, d := range strsafe.Parse(p) {
			pv = append(pv, d.Text)
		}
		if diff := cmp.Diff(sv, pv); diff != "" {
			t.Errorf("%s: pseudo changed the format directives (-en +pseudo):\n%s", key, diff)
		}
	}
}

func visible(s string) string {
	for _, d := range strsafe.Parse(s) {
		s = strings.Replace(s, d.Text, "", 1)
	}
	return s
}

func hasNonASCII(s string) bool {
	for _, r := range s {
		if r > 0x7f {
			return true
		}
	}
	return false
}

// TestShippedLocalesPass runs the checker on the shipped locales.
func TestShippedLocalesPass(t *testing.T) {
	probs, err := check.Dir(localesDir, msgslang.FromTable(msgslang.Source, builtin(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("msgslangcheck: %s", p)
	}
	for _, want := range []string{"en-US", "de-DE", "ja-JP", "qps-ploc"} {
		if _, err := os.Stat(filepath.Join(localesDir, msgslang.FileName(want))); err != nil {
			t.Errorf("shipped locale %s: %v", want, err)
		}
	}
}

// TestTranslationsTranslated catches a file copied from English: most
// strings of de-DE and ja-JP must differ from en-US.
func TestTranslationsTranslated(t *testing.T) {
	en := readLocale(t, msgslang.Source)
	for _, name := range []string{"de-DE", "ja-JP"} {
		l := readLocale(t, name)
		same := 0
		for k, m := range l.Messages {
			if m.Other == en.Messages[k].Other {
				same++
			}
		}
		// Pure layout strings ("  %s: %s") and words like "Online" may
		// stay the same; anything more means untranslated text.
		if same*5 > len(l.Messages) {
			t.Errorf("%s: %d of %d strings equal en-US, want at most a fifth", name, same, len(l.Messages))
		}
	}
}

func TestContainsStringsShipped(t *testing.T) {
	de := readLocale(t, "de-DE").Table()
	var blob bytes.Buffer
	blob.WriteString("\x7fELF")
	blob.WriteString(de["con.welcome"])
	got := msgslang.ContainsStrings(blob.Bytes(), de)
	if diff := cmp.Diff([]string{"con.welcome"}, got); diff != "" {
		t.Errorf("ContainsStrings mismatch (-want +got):\n%s", diff)
	}
}

package msgslang

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	in := `# comment
locale = "de_de"

[strings]
"con.welcome" = "Hallo"
"x.count" = { one = "ein Kontakt", other = "%d Kontakte" }
"multi" = """
a
b"""
`
	l, err := Parse([]byte(in))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := &Locale{Name: "de-DE", Messages: map[string]Message{
		"con.welcome": {Other: "Hallo"},
		"x.count":     {Other: "%d Kontakte", Forms: map[string]string{One: "ein Kontakt", Other: "%d Kontakte"}},
		"multi":       {Other: "a\nb"},
	}}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("Parse mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/invalid files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The first line says which error text to expect.
			first, _, _ := strings.Cut(string(b), "\n")
			wantText := strings.TrimSpace(strings.TrimPrefix(first, "# want:"))
			_, err = Parse(b)
			if !errors.Is(err, ErrFile) {
				t.Fatalf("Parse(%s) error = %v, want ErrFile", f, err)
			}
			if !strings.Contains(err.Error(), wantText) {
				t.Errorf("Parse(%s) error = %q, want it to contain %q", f, err, wantText)
			}
		})
	}
	big := "locale = \"de-DE\"\n#" + strings.Repeat("x", MaxFileSize)
	if _, err := Parse([]byte(big)); !errors.Is(err, ErrFile) {
		t.Errorf("Parse(%d bytes) error = %v, want ErrFile", len(big), err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	l := &Locale{Name: "ja-JP", Messages: map[string]Message{
		"a":     {Other: "quote \" back\\slash tab\t nl\n end"},
		"b":     {Other: "ends with quote\"\n"},
		"c":     {Other: "ctl \x01 \x7f"},
		"d.n":   {Other: "%d 件", Forms: map[string]string{Other: "%d 件"}},
		"e":     {Other: "\"\"\"\n\"\"\""},
		"f_g-h": {Other: ""},
	}}
	got, err := Parse(l.Marshal("header line\nsecond"))
	if err != nil {
		t.Fatalf("Parse(Marshal()) error: %v\n%s", err, l.Marshal("x"))
	}
	if diff := cmp.Diff(l, got); diff != "" {
		t.Errorf("Parse(Marshal(l)) mismatch (-want +got):\n%s", diff)
	}
}

func FuzzParse(f *testing.F) {
	for _, glob := range []string{"locales/*.toml", "testdata/invalid/*.toml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(b)
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip.
		l2, err := Parse(l.Marshal("fuzz"))
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) error: %v", b, err)
		}
		if diff := cmp.Diff(l, l2); diff != "" {
			t.Fatalf("round trip of %q mismatch (-want +got):\n%s", b, diff)
		}
	})
}

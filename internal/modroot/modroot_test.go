package modroot

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A folder named go.mod is not a go.mod.
	if err := os.Mkdir(filepath.Join(root, "a", "go.mod"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Find(deep)
	if err != nil || got != root {
		t.Fatalf("Find(%s) = %q, %v, want %q", deep, got, err, root)
	}
	p, err := Path(got)
	if err != nil || p != "example.com/m" {
		t.Errorf("Path(%s) = %q, %v, want example.com/m", got, p, err)
	}
	if _, err := Find("/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(/) = %v, want ErrNotFound", err)
	}
}

func TestFindThisModule(t *testing.T) {
	root, err := Find(".")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Path(root)
	if err != nil || p != "github.com/oemkit/messenger" {
		t.Errorf("Path(%s) = %q, %v, want github.com/oemkit/messenger", root, p, err)
	}
}

func TestParseModule(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"module example.com/m\n", "example.com/m", ""},
		{"// c\nmodule \"example.com/q\" // x\ngo 1.22\n", "example.com/q", ""},
		{"modulex example.com/m\n", "", "no module line"},
		{"go 1.22\n", "", "no module line"},
		{"module a b\n", "", "no single module path"},
		{"module \"a\n", "", "badly quoted"},
	} {
		got, err := parseModule("go.mod", bufio.NewScanner(strings.NewReader(tc.in)))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseModule(%q) = %q, %v, want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseModule(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzParseModule(f *testing.F) {
	f.Add("module example.com/m\n")
	f.Add("module \"x\"\n")
	f.Add("go 1.22\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseModule("go.mod", bufio.NewScanner(strings.NewReader(s)))
		if err == nil && (p == "" || strings.ContainsAny(p, " \t")) {
			t.Fatalf("parseModule(%q) = %q with no error", s, p)
		}
	})
}

package modroot

import (
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

func TestModulePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"module example.com/m\n", "example.com/m"},
		{"// c\nmodule \"example.com/q\" // x\ngo 1.22\n", "example.com/q"},
		{"modulex example.com/m\n", ""},
		{"go 1.22\n", ""},
		{"module a b\n", ""},
		{"module \"a\n", ""},
		{"module example.com/m\n" + strings.Repeat("//\n", maxGoMod/3), ""},
	} {
		got, err := modulePath("go.mod", []byte(tc.in))
		if tc.want == "" {
			if err == nil {
				t.Errorf("modulePath(%.40q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("modulePath(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func FuzzModulePath(f *testing.F) {
	f.Add("module example.com/m\n")
	f.Add("module \"x\"\n")
	f.Add("go 1.22\n")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := modulePath("go.mod", []byte(s))
		if err == nil && (p == "" || strings.ContainsAny(p, " \t")) {
			t.Fatalf("modulePath(%q) = %q with no error", s, p)
		}
	})
}

package gosrc

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTable(t *testing.T) {
	src := "package main\n\nvar other = 1\n\nvar catalog = map[string]string{\n\t// c\n\t\"a\": \"x %s\",\n\t\"b\": `raw\nline`,\n\t\"c\": \"p\" + (\"q\" + `r`),\n}\n"
	got, err := Table("s.go", []byte(src), "catalog")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "x %s", "b": "raw\nline", "c": "pqr"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Table mismatch (-want +got):\n%s", diff)
	}
}

func TestTableErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"no var", "package main\n", "no package-level var catalog"},
		{"not a literal", "package main\nvar catalog = f()\n", "not a map literal"},
		{"non-constant", "package main\nvar catalog = map[string]string{\"a\": x}\n", "not a string literal"},
		{"duplicate", "package main\nvar catalog = map[string]string{\"a\": \"1\", \"a\": \"2\"}\n", "duplicate key"},
		{"syntax", "package main\nvar catalog = map[string]string{\n", "gosrc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Table("s.go", []byte(tt.src), "catalog")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Table(%q) error = %v, want it to contain %q", tt.src, err, tt.want)
			}
		})
	}
}

func FuzzTable(f *testing.F) {
	f.Add([]byte("package main\nvar catalog = map[string]string{\"a\": \"b\" + \"c\"}\n"))
	f.Add([]byte("package main\nvar catalog, x = map[string]string{}, 1\n"))
	f.Add([]byte("package main\nvar (catalog = map[string]string{1: 2})\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		_, _ = Table("fuzz.go", src, "catalog") // must not panic
	})
}

package feature

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestComparePaths(t *testing.T) {
	// The order filepath.WalkDir visits these in (a folder's entries in name
	// order: "b" before "feature.toml").
	want := []string{"a/b/feature.toml", "a/feature.toml", "a-b/feature.toml", "a.x/feature.toml", "ab/feature.toml", "b/feature.toml"}
	got := slices.Clone(want)
	slices.Reverse(got)
	slices.SortFunc(got, comparePaths)
	if !slices.Equal(got, want) {
		t.Errorf("sorted = %q, want %q", got, want)
	}
}

// TestScanMatchesWalkDir loads a tree with skipped folders, a symlinked
// folder, a bad manifest and deep nesting with both the folder reader and
// filepath.WalkDir, and wants the same results in the same order.
func TestScanMatchesWalkDir(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	item := func(id string) string {
		return "id = \"" + id + "\"\ntitle = \"t\"\nname_source = \"chosen\"\nlicense = \"MIT\"\n"
	}
	write("a/feature.toml", item("SYSGEN_A"))
	write("a/b/feature.toml", item("SYSGEN_AB"))
	write("a-b/feature.toml", item("SYSGEN_A_B"))
	write("a-b/other.txt", "x")
	write(".hidden/feature.toml", item("SYSGEN_HIDDEN"))
	write("x/testdata/feature.toml", item("SYSGEN_TD"))
	write("out/feature.toml", item("SYSGEN_OUT"))
	write("node_modules/feature.toml", item("SYSGEN_NM"))
	write("bad/feature.toml", "id = \"SYSGEN_BAD\"\nnope = 1\n")
	write("d/e/f/g/h/i/feature.toml", item("SYSGEN_DEEP"))
	if err := os.Symlink(filepath.Join(dir, "a"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := scan(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := scanPortable(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range [][]loaded{got, want} {
		slices.SortFunc(l, func(a, b loaded) int { return comparePaths(a.path, b.path) })
	}
	summary := func(l []loaded) (out []string) {
		for _, f := range l {
			s := f.path + " "
			if f.err != nil {
				s += "error: " + f.err.Error()
			} else {
				s += f.item.ID + " " + f.item.File + " " + f.item.Dir
			}
			out = append(out, s)
		}
		return out
	}
	if diff := cmp.Diff(summary(want), summary(got)); diff != "" {
		t.Errorf("scan differs from filepath.WalkDir (-want +got):\n%s", diff)
	}
	if len(got) != 5 {
		t.Errorf("found %d manifests, want 5: %q", len(got), summary(got))
	}
}

//go:build linux

package feature

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestScanLeafFolders: item folders without sub-folders are read through
// their parent (no open or getdents of their own) where the file system
// counts sub-folders; the results must be those of filepath.WalkDir,
// including a leaf without a manifest, a dangling manifest symlink, a
// manifest symlink, more leaves than one job takes, and a folder that has
// both a manifest and leaf sub-folders.
func TestScanLeafFolders(t *testing.T) {
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
	for i := range 3*leafChunk + 5 {
		write(fmt.Sprintf("many/i%04d/feature.toml", i), item(fmt.Sprintf("SYSGEN_I%04d", i)))
	}
	write("top/feature.toml", item("SYSGEN_TOP"))
	write("top/leaf/feature.toml", item("SYSGEN_LEAF"))
	write("top/leaf/notes.txt", "x")
	if err := os.MkdirAll(filepath.Join(dir, "top", "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("top/bad/feature.toml", "id = \"SYSGEN_BAD\"\nnope = 1\n")
	if err := os.MkdirAll(filepath.Join(dir, "top", "dangling"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing.toml", filepath.Join(dir, "top", "dangling", ManifestName)); err != nil {
		t.Fatal(err)
	}
	write("elsewhere/real.toml", item("SYSGEN_LINKED"))
	if err := os.MkdirAll(filepath.Join(dir, "top", "linked"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere", "real.toml"), filepath.Join(dir, "top", "linked", ManifestName)); err != nil {
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
	if n := 3*leafChunk + 5 + 5; len(got) != n {
		t.Errorf("found %d manifests, want %d", len(got), n)
	}
}

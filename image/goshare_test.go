package image

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGoShares(t *testing.T) {
	mod := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(mod, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("drivers/audio/feature.toml", `id = "SYSGEN_AUDIO_HDA"`+"\n")
	write("drivers/audio/alsa/pcm.go", string(make([]byte, 300)))
	write("app/main.go", string(make([]byte, 100)))
	write("init/main.go", string(make([]byte, 200)))
	write("lib/lib.go", string(make([]byte, 400)))
	write("std/fmt.go", string(make([]byte, 1000)))
	pkgs := []goPackage{
		{ImportPath: "m/app", Dir: filepath.Join(mod, "app"), GoFiles: []string{"main.go"}, Deps: []string{"m/lib", "fmt"}},
		{ImportPath: "m/init", Dir: filepath.Join(mod, "init"), GoFiles: []string{"main.go"}, Deps: []string{"m/drivers/audio/alsa", "m/lib", "fmt"}},
		{ImportPath: "m/drivers/audio/alsa", Dir: filepath.Join(mod, "drivers/audio/alsa"), GoFiles: []string{"pcm.go"}},
		{ImportPath: "m/lib", Dir: filepath.Join(mod, "lib"), GoFiles: []string{"lib.go"}},
		{ImportPath: "fmt", Dir: filepath.Join(mod, "std"), GoFiles: []string{"fmt.go"}, Standard: true},
	}
	cmds := []Command{{Pkg: "m/app", Feature: "SYSGEN_MESSENGER"}, {Pkg: "m/init", Feature: "base"}}
	got := goShares(pkgs, cmds, []string{"SYSGEN_MESSENGER", "SYSGEN_AUDIO_HDA"}, mod, 2000, 1000)
	want := []GoShare{
		{Feature: shareStd, Packages: 1, Bytes: 1000, Compressed: 500},
		{Feature: shareShared, Packages: 1, Bytes: 400, Compressed: 200},
		{Feature: "SYSGEN_AUDIO_HDA", Packages: 1, Bytes: 300, Compressed: 150},
		{Feature: "base", Packages: 1, Bytes: 200, Compressed: 100},
		{Feature: "SYSGEN_MESSENGER", Packages: 1, Bytes: 100, Compressed: 50},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("goShares mismatch (-want +got):\n%s", diff)
	}
}

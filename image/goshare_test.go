package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/internal/testenv"
)

func TestPackageShares(t *testing.T) {
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
	pkgs := []goPackage{
		{ImportPath: "m/app", Dir: filepath.Join(mod, "app"), Deps: []string{"m/lib", "fmt"}},
		{ImportPath: "m/init", Dir: filepath.Join(mod, "init"), Deps: []string{"m/drivers/audio/alsa", "m/lib", "fmt"}},
		{ImportPath: "m/drivers/audio/alsa", Dir: filepath.Join(mod, "drivers/audio/alsa")},
		{ImportPath: "m/lib", Dir: filepath.Join(mod, "lib")},
		{ImportPath: "fmt", Dir: filepath.Join(mod, "std"), Standard: true},
	}
	cmds := []Command{{Pkg: "m/app", Feature: "SYSGEN_MESSENGER"}, {Pkg: "m/init", Feature: "base"}}
	got := packageShares(pkgs, cmds, []string{"SYSGEN_MESSENGER", "SYSGEN_AUDIO_HDA"}, mod)
	want := map[string]string{"m/app": "SYSGEN_MESSENGER", "m/init": "base", "m/drivers/audio/alsa": "SYSGEN_AUDIO_HDA", "m/lib": shareShared, "fmt": shareStd}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packageShares mismatch (-want +got):\n%s", diff)
	}
}

// TestGoSharesFromSymbols builds a real program stripped like the image's
// busybox binary (-s -w) and checks that the split read from its Go symbol
// table gives each package the code size `go tool nm -size` shows for the
// same program built unstripped.
func TestGoSharesFromSymbols(t *testing.T) {
	goBin := testenv.Tool(t, "go", "install Go")
	dir := t.TempDir()
	const pkg = "github.com/oemkit/messenger/drivers/internal/vmcheck"
	build := func(out string, strip bool) []byte {
		args := []string{"build", "-trimpath", "-o", out}
		if strip {
			args = append(args, "-ldflags", "-s -w")
		}
		cmd := exec.Command(goBin, append(args, pkg)...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	stripped := build(filepath.Join(dir, "stripped"), true)
	build(filepath.Join(dir, "full"), false)
	shares := map[string]string{
		"github.com/oemkit/messenger/drivers/audio":   "SYSGEN_AUDIO_HDA",
		"github.com/oemkit/messenger/drivers/network": "SYSGEN_ETHERNET",
		"fmt": shareStd, "runtime": shareStd,
	}
	got, err := goShares(stripped, shares, int64(len(stripped)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]GoShare{}
	var bytes, text int64
	for _, g := range got {
		by[g.Feature] = g
		bytes += g.Bytes
		text += g.Text
	}
	if d := int64(len(stripped)) - bytes; d < 0 || d > int64(len(got)) {
		t.Errorf("shares add up to %d bytes, the binary has %d", bytes, len(stripped))
	}
	// The same split from the ELF symbol table of the unstripped build.
	nm, err := exec.Command(goBin, "tool", "nm", "-size", filepath.Join(dir, "full")).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, l := range strings.Split(string(nm), "\n") {
		f := strings.Fields(l)
		if len(f) < 4 || (f[2] != "T" && f[2] != "t") {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		for p, share := range shares {
			if strings.HasPrefix(f[3], p+".") {
				want[share] += n
			}
		}
	}
	for _, share := range []string{"SYSGEN_AUDIO_HDA", "SYSGEN_ETHERNET"} {
		g := by[share]
		// The Go table's function ends include the alignment padding to
		// the next function; nm's sizes do not.
		if d := g.Text - want[share]; g.Text == 0 || d < 0 || d > want[share]/10 {
			t.Errorf("%s code = %d bytes from the Go symbol table, go tool nm says %d", share, g.Text, want[share])
		}
	}
	if _, err := goShares([]byte("not elf"), shares, 1, 1); err == nil {
		t.Errorf("goShares(not ELF) = nil error")
	}
	t.Logf("split of %d bytes (%d of code): %+v", len(stripped), text, got)
}

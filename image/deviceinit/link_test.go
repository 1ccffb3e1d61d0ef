package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/internal/testenv"
)

// TestCodecLinkedOnlyWithItem builds the device init for linux/amd64 with and
// without the SYSGEN_AUDIO_SGTL5000 build tag and reads the symbol tables:
// the codec driver's code is in the binary only when the item is in the
// design.
func TestCodecLinkedOnlyWithItem(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the device init twice")
	}
	gobin := testenv.Tool(t, "go", "install Go from https://go.dev/dl")
	const pkg = "github.com/oemkit/messenger/drivers/codec/sgtl5000."
	dir := t.TempDir()
	for _, tc := range []struct {
		tags string
		want bool
	}{
		{"", false},
		{"sysgen_audio_sgtl5000", true},
	} {
		out := filepath.Join(dir, "deviceinit"+tc.tags)
		cmd := exec.Command(gobin, "build", "-trimpath", "-tags="+tc.tags, "-o", out, ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build -tags=%q: %v\n%s", tc.tags, err, b)
		}
		f, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		syms, err := f.Symbols()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range syms {
			if strings.HasPrefix(s.Name, pkg) {
				got = append(got, s.Name)
			}
		}
		has := func(name string) bool {
			for _, s := range got {
				if s == pkg+name {
					return true
				}
			}
			return false
		}
		t.Logf("-tags=%q: %d sgtl5000 symbols", tc.tags, len(got))
		if tc.want && (!has("(*Driver).Init") || !has("New")) {
			t.Errorf("-tags=%q: the binary lacks the codec driver's (*Driver).Init or New (%d sgtl5000 symbols)", tc.tags, len(got))
		}
		if !tc.want && len(got) > 0 {
			t.Errorf("-tags=%q: the binary carries %d sgtl5000 symbols, e.g. %s; want none without SYSGEN_AUDIO_SGTL5000", tc.tags, len(got), got[0])
		}
	}
}

package art

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemkit/messenger/internal/testenv"
)

// TestAssetsUpToDate checks that the committed assets are what assetgen
// writes from the current locale files, so a new Japanese string cannot
// ship without its glyphs.
func TestAssetsUpToDate(t *testing.T) {
	if _, err := os.Stat(DefaultCJKFont); err != nil {
		testenv.Missing(t, "%s: apt-get install fonts-ipafont-gothic", DefaultCJKFont)
	}
	files, err := All(DefaultCJKFont, "../../../../msgslang/locales")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join("../../assets", f.Name))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("msmsgs/window/assets/%s is stale (%v): run go run ./msmsgs/window/internal/assetgen -o msmsgs/window/assets -locales msgslang/locales", f.Name, err)
		}
	}
}

func TestAtlasCoversLocales(t *testing.T) {
	runes, err := AtlasRunes("../../../../msgslang/locales")
	if err != nil {
		t.Fatal(err)
	}
	have := map[rune]bool{}
	for _, r := range runes {
		have[r] = true
	}
	for _, r := range "オンライン会話状態" {
		if !have[r] {
			t.Errorf("AtlasRunes lacks %q, which ja-JP uses", r)
		}
	}
}

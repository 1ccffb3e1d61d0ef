package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/msgslang"
)

// TestGermanImage builds the Messenger image with locales = ["de-DE"]: the
// locale is its own file in the image (and manifest), the msmsgs binary in
// the image holds none of the German strings, the image's own msmsgs shows
// German with the image's settings, and replacing the locale file in the
// unpacked image changes the language with no rebuild.
func TestGermanImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a real image; skipped in -short mode")
	}
	testenv.Tool(t, "apt-get", "a Debian host: apt-get download fetches the kernel package")
	testenv.Tool(t, "dpkg-deb", "apt-get install dpkg")
	work := t.TempDir()
	design := filepath.Join(work, "osdesign.toml")
	if err := os.WriteFile(design, []byte("bsp = \"qemu-x86_64\"\nlocales = [\"0407\"]\n[flags]\nSYSGEN_MESSENGER = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(work, "img")
	if _, stderr, code := run(t, nil, "build", "--design", design, "-o", out); code != 0 {
		t.Fatalf("sysgen build with locales = [\"0407\"]: exit %d: %s", code, stderr)
	}
	m, err := image.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	var locales []string
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, msgslang.DefaultDir+"/") {
			locales = append(locales, f.Path)
		}
	}
	if len(locales) != 1 || locales[0] != msgslang.DefaultDir+"/de-DE.toml" {
		t.Fatalf("image locale files = %v, want only %s/de-DE.toml", locales, msgslang.DefaultDir)
	}

	root := filepath.Join(work, "root")
	if _, stderr, code := run(t, nil, "unpack", out, "-o", root); code != 0 {
		t.Fatalf("sysgen unpack: exit %d: %s", code, stderr)
	}
	// The first locale is the device's language; the design file set no
	// msmsgs.locale, and the design-to-image step did not change it.
	var settings map[string]any
	if b, err := os.ReadFile(filepath.Join(root, "etc", "settings.json")); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &settings); err != nil {
		t.Fatal(err)
	}
	if settings["msmsgs.locale"] != "de-DE" {
		t.Errorf("image settings msmsgs.locale = %v, want de-DE (the design's first locale)", settings["msmsgs.locale"])
	}
	bin, err := os.ReadFile(filepath.Join(root, "bbin", "bb"))
	if err != nil {
		t.Fatal(err)
	}
	de, err := msgslang.ReadFile(filepath.Join(root, "usr/share/msgslang/de-DE.toml"))
	if err != nil {
		t.Fatal(err)
	}
	en, err := msgslang.ReadFile("../../msgslang/locales/en-US.toml")
	if err != nil {
		t.Fatal(err)
	}
	german := msgslang.Without(de.Table(), en.Table())
	if found := msgslang.ContainsStrings(bin, german); len(found) > 0 {
		t.Errorf("the image's msmsgs binary contains German strings (they belong in msgslang): %q", found[:min(3, len(found))])
	}
	if found := msgslang.ContainsStrings(bin, en.Table()); len(found) == 0 {
		t.Fatal("binary check cannot fail: not even the built-in English strings were found")
	}

	// Run the image's own msmsgs (the busybox binary, amd64) with the
	// image's settings and locale folder.
	if os.Getenv("GOARCH") != "" && os.Getenv("GOARCH") != "amd64" {
		t.Skip("running the amd64 image binary needs an amd64 host")
	}
	link := filepath.Join(work, "msmsgs")
	if err := os.Symlink(filepath.Join(root, "bbin", "bb"), link); err != nil {
		t.Fatal(err)
	}
	help := func() string {
		cmd := exec.Command(link, "daemon", "-config", filepath.Join(root, "etc/settings.json"),
			"-lang-dir", filepath.Join(root, "usr/share/msgslang"), "-h")
		b, _ := cmd.CombinedOutput()
		return string(b)
	}
	// flag prints a back-quoted part as the value name; compare the rest.
	parts := strings.Split(de.Table()["flag.account"], "`")
	wantDE := strings.TrimSpace(parts[len(parts)-1])
	if got := help(); !strings.Contains(stdioASCII(got), stdioASCII(wantDE)) {
		t.Errorf("image msmsgs -h with locale de-DE lacks the German %q:\n%s", wantDE, got)
	}
	// Swap the locale file for the Japanese one under the same name: the
	// language changes, nothing is rebuilt.
	ja, err := os.ReadFile("../../msgslang/locales/ja-JP.toml")
	if err != nil {
		t.Fatal(err)
	}
	ja = bytes.Replace(ja, []byte(`locale = "ja-JP"`), []byte(`locale = "de-DE"`), 1)
	if err := os.WriteFile(filepath.Join(root, "usr/share/msgslang/de-DE.toml"), ja, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := help(); strings.Contains(stdioASCII(got), stdioASCII(wantDE)) {
		t.Errorf("after replacing the locale file msmsgs still shows the German %q:\n%s", wantDE, got)
	}
}

// stdioASCII folds what an ASCII console shows, so the comparison holds
// whatever the console encoding is.
func stdioASCII(s string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue")
	return r.Replace(s)
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildRefusesUpdateWithoutKey: a design with SYSGEN_UPDATE but no
// usable update.public_key is refused before anything is built, since its
// devices would refuse every update.
func TestBuildRefusesUpdateWithoutKey(t *testing.T) {
	for name, design := range map[string]string{
		"no key":  "",
		"bad key": "[settings]\n\"update.public_key\" = \"ed25519:AAAA\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			osd := filepath.Join(dir, "osdesign.toml")
			if err := os.WriteFile(osd, []byte("[flags]\nSYSGEN_MESSENGER = true\nSYSGEN_UPDATE = true\n"+design), 0o644); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "img")
			_, stderr, code := run(t, nil, "build", "--design", osd, "-o", out)
			if code != 1 || !strings.Contains(stderr, "SYSGEN_UPDATE is in the design") || !strings.Contains(stderr, "sysgen keygen") {
				t.Errorf("build exit %d, stderr %q; want 1 naming update.public_key and sysgen keygen", code, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("refused build left %s behind (%v)", out, err)
			}
		})
	}
}

// TestBuildRefusesBadUpdateVersion: an update.version the device could
// not compare is refused before anything is built.
func TestBuildRefusesBadUpdateVersion(t *testing.T) {
	dir := t.TempDir()
	osd := filepath.Join(dir, "osdesign.toml")
	design := "[flags]\nSYSGEN_UPDATE = true\n[settings]\n\"update.public_key\" = \"ed25519:Ttc6y8RtBNu3YUBuZ5nDkV9hx3Qk+rZRkf9dqmm2c6s=\"\n\"update.version\" = \"1.2-rc1\"\n"
	if err := os.WriteFile(osd, []byte(design), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img")
	_, stderr, code := run(t, nil, "build", "--design", osd, "-o", out)
	if code != 1 || !strings.Contains(stderr, `version "1.2-rc1"`) || !strings.Contains(stderr, "update.version in the design") {
		t.Errorf("build exit %d, stderr %q; want 1 naming the bad update.version", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("refused build left %s behind (%v)", out, err)
	}
}

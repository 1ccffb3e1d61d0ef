package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/image"
)

// TestDecodersOnlyInTheirDesign builds msmsgs as the image does, with the
// build tags of designs with and without each decoder item and the
// browser control host, and checks with go tool nm that each decoder's
// code (its feature/imaging package and the standard library decoder
// behind it) and the host's are linked only with their item. For each
// design it runs the daemon's picture and page tests with its tags.
func TestDecodersOnlyInTheirDesign(t *testing.T) {
	if testing.Short() {
		t.Skip("builds msmsgs and tests its daemon four times")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tag := map[string]string{}
	for _, id := range []string{"SYSGEN_MESSENGER", "SYSGEN_IMAGING", "SYSGEN_IMAGING_GIF_DECODE", "SYSGEN_IMAGING_PNG_DECODE", "SYSGEN_SHDOCVW"} {
		tag[id] = image.BuildTag(id)
	}
	syms := func(ids ...string) string {
		var tags []string
		for _, id := range ids {
			tags = append(tags, tag[id])
		}
		bin := filepath.Join(t.TempDir(), "msmsgs")
		cmd := exec.Command("go", "build", "-trimpath", "-tags", strings.Join(tags, ","), "-o", bin, "./msmsgs")
		cmd.Dir = root
		cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build -tags %s ./msmsgs: %v\n%s", strings.Join(tags, ","), err, out)
		}
		out, err := exec.Command("go", "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm: %v", err)
		}
		return string(out)
	}
	const (
		imaging = "github.com/oemkit/messenger/feature/imaging."
		gifPkg  = "github.com/oemkit/messenger/feature/imaging/gif."
		pngPkg  = "github.com/oemkit/messenger/feature/imaging/png."
		host    = "github.com/oemkit/messenger/feature/browserhost."
		xfont   = "golang.org/x/image/"
		stdGIF  = " image/gif."
		stdPNG  = " image/png."
	)
	all := []string{"SYSGEN_MESSENGER", "SYSGEN_IMAGING", "SYSGEN_IMAGING_GIF_DECODE", "SYSGEN_IMAGING_PNG_DECODE", "SYSGEN_SHDOCVW"}
	// The daemon's tests of picture and page that only build with the
	// items' tags (viewers_test.go, viewers_nogif_test.go).
	daemonTests := func(ids ...string) {
		var tags []string
		for _, id := range ids {
			tags = append(tags, tag[id])
		}
		cmd := exec.Command("go", "test", "-count=1", "-tags", strings.Join(tags, ","), "-run", "TestViewers", "-v", "./msmsgs/daemon")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestViewers") {
			t.Errorf("go test -tags %s -run TestViewers ./msmsgs/daemon: %v\n%s", strings.Join(tags, ","), err, out)
		}
	}
	for _, c := range []struct {
		name      string
		ids       []string
		has, lack []string
		daemon    bool // a daemon test file builds with these tags
	}{
		{"every item", all, []string{imaging, gifPkg, pngPkg, host, xfont, stdGIF, stdPNG}, nil, true},
		{"without SYSGEN_IMAGING_GIF_DECODE", []string{"SYSGEN_MESSENGER", "SYSGEN_IMAGING", "SYSGEN_IMAGING_PNG_DECODE", "SYSGEN_SHDOCVW"},
			[]string{imaging, pngPkg, stdPNG, host}, []string{gifPkg, stdGIF}, true},
		{"without SYSGEN_IMAGING_PNG_DECODE", []string{"SYSGEN_MESSENGER", "SYSGEN_IMAGING", "SYSGEN_IMAGING_GIF_DECODE"},
			[]string{imaging, gifPkg, stdGIF}, []string{pngPkg, stdPNG, host, xfont}, false},
		{"without imaging and host", []string{"SYSGEN_MESSENGER"}, nil, []string{imaging, gifPkg, pngPkg, host, xfont, stdGIF, stdPNG}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := syms(c.ids...)
			for _, p := range c.has {
				if !strings.Contains(s, p) {
					t.Errorf("msmsgs built for %v has no %s symbols", c.ids, strings.TrimSpace(strings.TrimSuffix(p, ".")))
				}
			}
			for _, p := range c.lack {
				if strings.Contains(s, p) {
					t.Errorf("msmsgs built for %v links %s", c.ids, strings.TrimSpace(strings.TrimSuffix(p, ".")))
				}
			}
			if c.daemon {
				daemonTests(c.ids...)
			}
		})
	}
}

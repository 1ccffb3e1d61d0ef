package image

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestBuildShell checks that SYSGEN_SHELL, through its manifest (shell =
// gosh), makes u-root's gosh /bin/sh, and that without it there is none.
func TestBuildShell(t *testing.T) {
	spec, err := catalogSpec("qemu-x86_64", "SYSGEN_MESSENGER=1", "SYSGEN_SHELL=1")
	if err != nil {
		t.Fatal(err)
	}
	if spec.Shell != "github.com/u-root/u-root/cmds/core/gosh" {
		t.Errorf("spec.Shell = %q, want u-root's gosh from the SYSGEN_SHELL manifest", spec.Shell)
	}
	if _, tags := spec.GoBuild(); !contains(tags, "goshsmall") {
		t.Errorf("build tags %v lack goshsmall (the SYSGEN_SHELL manifest's build_tags)", tags)
	}
	if s := MessengerSpec("qemu-x86_64"); s.Shell != "" {
		t.Errorf("SYSGEN_MESSENGER alone: spec.Shell = %q, want none", s.Shell)
	}
	NeedKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := Build(ctx, spec, filepath.Join(t.TempDir(), "shell"))
	if err != nil {
		t.Fatalf("Build(with SYSGEN_SHELL) = %v", err)
	}
	links := map[string]string{}
	for _, f := range res.Manifest.Files {
		if f.Type == "symlink" {
			links[f.Path] = f.Target
		}
	}
	if links["/bbin/gosh"] != "bb" || links["/bin/sh"] == "" {
		t.Errorf("symlinks /bbin/gosh = %q, /bin/sh = %q; want gosh in the busybox and /bin/sh pointing at it", links["/bbin/gosh"], links["/bin/sh"])
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

package image

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestBuildShell checks that SYSGEN_SHELL adds u-root's gosh as /bin/sh.
func TestBuildShell(t *testing.T) {
	NeedKernel(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := MessengerSpec("qemu-x86_64")
	spec.Features = append(spec.Features, ShellFeature)
	res, err := Build(ctx, spec, filepath.Join(t.TempDir(), "shell"))
	if err != nil {
		t.Fatalf("Build(with %s) = %v", ShellFeature, err)
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

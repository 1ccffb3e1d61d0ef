package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesCurrent regenerates into a temp dir and compares with
// the shipped files byte for byte.
func TestGeneratedFilesCurrent(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"-from", "../../../msmsgs/strings.go", "-o", dir}, strings.NewReader(""), &out, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, name := range []string{"en-US.toml", "qps-ploc.toml"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join("../../locales", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("msgslang/locales/%s is stale: run go generate ./msgslang", name)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".msgslanggen-*"))
	if len(left) > 0 {
		t.Errorf("temp files left behind: %q", left)
	}
}

func TestRunUsage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{nil, {"-from", "x.go"}, {"-o", "d"}, {"-bad"}} {
		if err := run(t.Context(), args, strings.NewReader(""), &out, &out); err == nil {
			t.Errorf("run(%q) = nil, want a usage error", args)
		}
	}
	if err := run(t.Context(), []string{"-from", "nope.go", "-o", t.TempDir()}, strings.NewReader(""), &out, &out); err == nil {
		t.Error("run(-from nope.go) = nil, want an error")
	}
}

package main

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestPageshot draws the lab start page into a PNG and reads it back.
func TestPageshot(t *testing.T) {
	out := filepath.Join(t.TempDir(), "start.png")
	if err := run([]string{"-o", out, "-width", "400"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := m.Bounds(); b.Dx() != 400 || b.Dy() < 300 {
		t.Errorf("PNG is %v, want 400 wide and the page's height", b)
	}
	if err := run([]string{"-width", "400"}); err == nil {
		t.Error("run without -o = nil, want a usage error")
	}
}

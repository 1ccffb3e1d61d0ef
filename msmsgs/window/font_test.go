package window

import (
	"testing"

	"golang.org/x/image/font"
)

// TestAtlasLazy: the glyph atlas is decoded when the first rune the Go
// fonts lack is measured, not by LoadFonts (the first frame's cost).
func TestAtlasLazy(t *testing.T) {
	fs, err := LoadFonts("")
	if err != nil {
		t.Fatal(err)
	}
	font.MeasureString(fs.Regular, "Windows Messenger")
	if fs.atlas.f != nil {
		t.Fatal("Latin text decoded the atlas")
	}
	if w := font.MeasureString(fs.Regular, "オンライン"); w <= 0 || fs.atlas.f == nil || fs.atlas.err != nil {
		t.Fatalf("オンライン: width %v, atlas %v, err %v", w, fs.atlas.f != nil, fs.atlas.err)
	}
	if !fs.atlas.Has('オ') {
		t.Error("the atlas lacks オ")
	}
}

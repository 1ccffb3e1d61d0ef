package fonts

import (
	"errors"
	"github.com/oemkit/messenger/internal/testenv"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
)

func TestFallback(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "none.ttf"))
	if !errors.Is(err, ErrNoFallback) || s == nil || s.HasFallback() {
		t.Fatalf("New(missing) = %v, %v; want a Latin-only set and ErrNoFallback", s, err)
	}
	if _, ok := s.Face(Style{Size: 14}).GlyphAdvance('日'); ok {
		t.Error("Latin-only set has a glyph for 日")
	}
	if _, err := os.Stat(DefaultFallback); err != nil {
		testenv.Missing(t, "no %s (apt-get install fonts-ipafont-gothic): %v", DefaultFallback, err)
	}
	s, err = New(DefaultFallback)
	if err != nil || !s.HasFallback() {
		t.Fatalf("New(%s) = %v", DefaultFallback, err)
	}
	f := s.Face(Style{Size: 14, Bold: true})
	if _, ok := f.GlyphAdvance('日'); !ok {
		t.Error("the fallback does not give 日")
	}
	if w := font.MeasureString(f, "Messenger"); w <= 0 {
		t.Errorf("MeasureString = %v", w)
	}
}

// FuzzFallback: a fallback font file of any content is used or refused
// with ErrNoFallback, never a crash, and the Latin faces always work.
func FuzzFallback(f *testing.F) {
	f.Add(goregular.TTF)
	f.Add(goregular.TTF[:512])
	f.Add([]byte("ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x00\x10"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.ttf")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := New(p)
		if err != nil && !errors.Is(err, ErrNoFallback) {
			t.Fatalf("New = %v, want nil or ErrNoFallback", err)
		}
		face := s.Face(Style{Size: 12})
		font.MeasureString(face, "a日")
	})
}

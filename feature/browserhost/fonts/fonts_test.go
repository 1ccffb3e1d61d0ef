package fonts

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/math/fixed"

	"github.com/oemkit/messenger/internal/testenv"
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

// oneRune is a face with a single glyph, 日, drawn as basicfont's X.
type oneRune struct{ font.Face }

func (o oneRune) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	if r != '日' {
		return 0, false
	}
	return o.Face.GlyphAdvance('X')
}

func (o oneRune) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	if r != '日' {
		return image.Rectangle{}, nil, image.Point{}, 0, false
	}
	return o.Face.Glyph(dot, 'X')
}

// TestLastResort: a set without a fallback font takes the runes the Go
// fonts lack from the last resort face, at every style; runes no face
// has keep the Go fonts' box.
func TestLastResort(t *testing.T) {
	s, _ := New(filepath.Join(t.TempDir(), "none.ttf"))
	s.Face(Style{Size: 14}) // made before: SetLastResort must replace it
	s.SetLastResort(oneRune{basicfont.Face7x13})
	if !s.HasFallback() {
		t.Error("HasFallback with a last resort = false")
	}
	for _, st := range []Style{{Size: 14}, {Size: 20, Bold: true}, {Size: 11, Italic: true}} {
		f := s.Face(st)
		if a, ok := f.GlyphAdvance('日'); !ok || a != fixed.I(7) {
			t.Errorf("%+v: advance of 日 = %v, %v; want the last resort's 7 px", st, a, ok)
		}
		if _, _, _, _, ok := f.Glyph(fixed.P(0, 10), '日'); !ok {
			t.Errorf("%+v: no glyph for 日", st)
		}
		if a, _ := f.GlyphAdvance('M'); a == fixed.I(7) {
			t.Errorf("%+v: M comes from the last resort, want the Go font", st)
		}
		if _, ok := f.GlyphAdvance('語'); ok {
			t.Errorf("%+v: a glyph for 語, which no face has", st)
		}
	}
}

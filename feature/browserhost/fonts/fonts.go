// Package fonts gives the device's user interface its typefaces: the Go
// fonts (golang.org/x/image/font/gofont) for Latin, Greek and Cyrillic,
// and a fallback font for the scripts they lack (ja-JP and other CJK
// text), read from a TrueType/OpenType file or collection (by default IPA
// Gothic, Debian fonts-ipafont-gothic; golang.org/x/image/font/sfnt cannot
// read WenQuanYi Micro Hei's .ttc). Without the fallback file, runes the
// Go fonts lack are drawn as the Go fonts' box.
package fonts

import (
	"fmt"
	"image"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gobolditalic"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// DefaultFallback is where Debian's fonts-ipafont-gothic puts IPA Gothic,
// the CJK fallback font.
const DefaultFallback = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"

// MaxFallbackBytes bounds the fallback font file.
const MaxFallbackBytes = 32 << 20

// Style selects a typeface of the set.
type Style struct {
	Size         int // pixels
	Bold, Italic bool
}

// Set holds parsed fonts and caches faces per style.
type Set struct {
	regular, bold, italic, boldItalic *opentype.Font
	fallback                          *opentype.Font
	lastResort                        font.Face
	mu                                sync.Mutex
	faces                             map[Style]font.Face
}

// New parses the Go fonts and, when fallbackPath is not empty, the
// fallback font (first font of a collection). A missing fallback file is
// not an error: FallbackErr reports it.
func New(fallbackPath string) (*Set, error) {
	s := &Set{faces: map[Style]font.Face{}}
	var err error
	for _, x := range []struct {
		dst **opentype.Font
		src []byte
	}{{&s.regular, goregular.TTF}, {&s.bold, gobold.TTF}, {&s.italic, goitalic.TTF}, {&s.boldItalic, gobolditalic.TTF}} {
		if *x.dst, err = opentype.Parse(x.src); err != nil {
			return nil, fmt.Errorf("fonts: go font: %w", err)
		}
	}
	if fallbackPath != "" {
		s.fallback, err = loadFallback(fallbackPath)
		if err != nil {
			return s, err
		}
	}
	return s, nil
}

// ErrNoFallback is returned (wrapped) by New when the fallback font file
// cannot be used; the Set it returns with it still draws Latin text.
var ErrNoFallback = fmt.Errorf("fonts: no fallback font for CJK text")

func loadFallback(path string) (*opentype.Font, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (install Debian fonts-ipafont-gothic, or pass another CJK .ttf/.otf)", ErrNoFallback, err)
	}
	if fi.Size() > MaxFallbackBytes {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrNoFallback, path, fi.Size(), MaxFallbackBytes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoFallback, err)
	}
	c, err := sfnt.ParseCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoFallback, path, err)
	}
	f, err := c.Font(0)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrNoFallback, path, err)
	}
	return f, nil
}

// HasFallback reports whether CJK text can be drawn.
func (s *Set) HasFallback() bool { return s.fallback != nil || s.lastResort != nil }

// SetLastResort gives the set a face for the runes neither the Go fonts
// nor the fallback font have, at every style (such as the Messenger
// window's bitmap glyph atlas of the ja-JP strings, one size). Runes no
// face has are drawn as the Go fonts' box. Call it before the first Face;
// f must be safe for use by the set's users (a read-only bitmap face is).
func (s *Set) SetLastResort(f font.Face) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastResort = f
	clear(s.faces)
}

// Face returns the face for st, made once per style: the same face for
// every caller, so (like every font.Face) one goroutine at a time may use
// the faces of a Set.
func (s *Set) Face(st Style) font.Face {
	if st.Size <= 0 {
		st.Size = 14
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.faces[st]; ok {
		return f
	}
	base := s.regular
	switch {
	case st.Bold && st.Italic:
		base = s.boldItalic
	case st.Bold:
		base = s.bold
	case st.Italic:
		base = s.italic
	}
	opts := &opentype.FaceOptions{Size: float64(st.Size), DPI: 72, Hinting: font.HintingFull}
	primary, err := opentype.NewFace(base, opts)
	if err != nil {
		panic(err) // the embedded fonts always make faces
	}
	var f font.Face = primary
	c := &chain{faces: []font.Face{primary}}
	if s.fallback != nil {
		if fb, err := opentype.NewFace(s.fallback, opts); err == nil {
			c.faces = append(c.faces, fb)
		}
	}
	c.own = len(c.faces)
	if s.lastResort != nil {
		c.faces = append(c.faces, s.lastResort)
	}
	if len(c.faces) > 1 {
		f = c
	}
	f = &cached{Face: f, adv: map[rune]advance{}, kern: map[[2]rune]fixed.Int26_6{}}
	s.faces[st] = f
	return f
}

// cached remembers glyph advances, which layout asks for once a rune of
// every word (each a cmap lookup in the font otherwise). Like every
// font.Face it serves one goroutine at a time.
type cached struct {
	font.Face
	adv  map[rune]advance
	kern map[[2]rune]fixed.Int26_6
}

type advance struct {
	a  fixed.Int26_6
	ok bool
}

// maxCachedRunes bounds the cache (CJK text has thousands of runes).
const maxCachedRunes = 8192

func (c *cached) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	if v, ok := c.adv[r]; ok {
		return v.a, v.ok
	}
	a, ok := c.Face.GlyphAdvance(r)
	if len(c.adv) < maxCachedRunes {
		c.adv[r] = advance{a, ok}
	}
	return a, ok
}

// chain draws each rune with the first face that has its glyph (the Go
// font, then the fallback font, then the last resort), else with the
// first face's box.
type chain struct {
	faces []font.Face
	own   int // faces[:own] are the set's to close
}

func (c *chain) pick(r rune) font.Face {
	for _, f := range c.faces {
		if _, ok := f.GlyphAdvance(r); ok {
			return f
		}
	}
	return c.faces[0]
}

// Close closes the faces the set made (not the last resort, which is the
// caller's).
func (c *chain) Close() error {
	for _, f := range c.faces[:c.own] {
		f.Close()
	}
	return nil
}

func (c *chain) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	return c.pick(r).Glyph(dot, r)
}

func (c *chain) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	return c.pick(r).GlyphBounds(r)
}

func (c *chain) GlyphAdvance(r rune) (fixed.Int26_6, bool) { return c.pick(r).GlyphAdvance(r) }

func (c *chain) Kern(r0, r1 rune) fixed.Int26_6 {
	if c.pick(r0) != c.pick(r1) {
		return 0
	}
	return c.pick(r0).Kern(r0, r1)
}

func (c *chain) Metrics() font.Metrics { return c.faces[0].Metrics() }

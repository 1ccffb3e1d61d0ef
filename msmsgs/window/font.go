package window

import (
	"fmt"
	"image"
	"os"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/oemkit/messenger/msmsgs/window/internal/atlas"
)

// TextSize is the body text size in pixels.
const TextSize = 13

// face is a font.Face with a coverage test and a glyph cache.
type face struct {
	font.Face
	has   func(rune) bool
	cache map[rune]glyph
}

type glyph struct {
	dr   image.Rectangle // at dot (0,0)
	mask image.Image
	mp   image.Point
	adv  fixed.Int26_6
	ok   bool
}

func (f *face) glyph(r rune) glyph {
	if g, ok := f.cache[r]; ok {
		return g
	}
	dr, mask, mp, adv, ok := f.Face.Glyph(fixed.Point26_6{}, r)
	g := glyph{dr: dr, adv: adv, ok: ok}
	if ok && mask != nil {
		// Copy: opentype reuses its mask buffer between calls.
		a := image.NewAlpha(dr)
		for y := dr.Min.Y; y < dr.Max.Y; y++ {
			for x := dr.Min.X; x < dr.Max.X; x++ {
				_, _, _, al := mask.At(mp.X+x-dr.Min.X, mp.Y+y-dr.Min.Y).RGBA()
				a.Pix[a.PixOffset(x, y)] = uint8(al >> 8)
			}
		}
		g.mask, g.mp = a, dr.Min
	}
	f.cache[r] = g
	return g
}

// chain is a font.Face that takes each rune from the first face that has
// it, or draws the first face's notdef box.
type chain struct {
	faces []*face
}

var _ font.Face = (*chain)(nil)

func (c *chain) pick(r rune) *face {
	for _, f := range c.faces {
		if f.has(r) {
			return f
		}
	}
	return c.faces[0]
}

func (c *chain) Close() error { return nil }

func (c *chain) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	g := c.pick(r).glyph(r)
	off := image.Pt(dot.X.Round(), dot.Y.Round())
	return g.dr.Add(off), g.mask, g.mp, g.adv, g.ok
}

func (c *chain) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	return c.pick(r).GlyphBounds(r)
}

func (c *chain) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	g := c.pick(r).glyph(r)
	return g.adv, g.ok
}

func (c *chain) Kern(r0, r1 rune) fixed.Int26_6 {
	f0, f1 := c.pick(r0), c.pick(r1)
	if f0 != f1 {
		return 0
	}
	return f0.Kern(r0, r1)
}

func (c *chain) Metrics() font.Metrics { return c.faces[0].Metrics() }

// Has reports whether some face of the chain has r.
func (c *chain) Has(r rune) bool {
	for _, f := range c.faces {
		if f.has(r) {
			return true
		}
	}
	return false
}

// Fonts are the faces the window draws with.
type Fonts struct {
	Regular, Bold, Title *chain
	atlas                *lazyAtlas
}

// Atlas is the built-in glyph atlas of the ja-JP strings as a face of
// its own (read-only, so the start page pane may use it beside the
// window's drawing).
func (fs *Fonts) Atlas() font.Face { return fs.atlas }

func sfntFace(ttf []byte, size float64) (*face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, err
	}
	return fontFace(f, size)
}

// fontFace makes a face of a parsed font.
func fontFace(f *opentype.Font, size float64) (*face, error) {
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	var buf sfnt.Buffer
	return &face{Face: fc, cache: map[rune]glyph{}, has: func(r rune) bool {
		i, err := f.GlyphIndex(&buf, r)
		return err == nil && i != 0
	}}, nil
}

// LoadFonts builds the window's faces: Go Regular and Go Bold for Latin,
// then extraTTF (a TrueType or OpenType file covering more scripts, such
// as a full CJK font; "" for none), then the built-in Japanese atlas.
func LoadFonts(extraTTF string) (*Fonts, error) {
	af := &lazyAtlas{}
	cjk := &face{Face: af, has: af.Has, cache: map[rune]glyph{}}
	var extra *face
	if extraTTF != "" {
		b, err := os.ReadFile(extraTTF)
		if err != nil {
			return nil, fmt.Errorf("window: font: %w (check window.font in the settings)", err)
		}
		if extra, err = sfntFace(b, TextSize); err != nil {
			return nil, fmt.Errorf("window: font %s: %w", extraTTF, err)
		}
	}
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(gobold.TTF) // once for Bold and Title
	if err != nil {
		return nil, err
	}
	mk := func(ft *opentype.Font, size float64) (*chain, error) {
		f, err := fontFace(ft, size)
		if err != nil {
			return nil, err
		}
		c := &chain{faces: []*face{f}}
		if extra != nil {
			c.faces = append(c.faces, extra)
		}
		c.faces = append(c.faces, cjk)
		return c, nil
	}
	fs := Fonts{atlas: af}
	if fs.Regular, err = mk(regular, TextSize); err != nil {
		return nil, err
	}
	if fs.Bold, err = mk(bold, TextSize); err != nil {
		return nil, err
	}
	if fs.Title, err = mk(bold, 16); err != nil {
		return nil, err
	}
	return &fs, nil
}

// lazyAtlas is the built-in glyph atlas, decoded when a rune the Go fonts
// lack is first drawn or measured, not before the window's first frame
// (its decoding is most of the fonts' start-up cost; an en-US screen
// needs none of it). It is safe for concurrent use once decoded (the
// atlas face is read-only).
type lazyAtlas struct {
	once sync.Once
	f    *atlas.Face
	err  error
}

func (l *lazyAtlas) face() *atlas.Face {
	l.once.Do(func() {
		at, err := atlas.Decode(assetBytes("cjk.atlas.gz"))
		if err != nil {
			// The embedded atlas is checked by internal/art's test; a
			// broken one draws boxes rather than stopping the window.
			l.err = fmt.Errorf("window: built-in glyph atlas: %w", err)
			l.f = atlas.NewFace(&atlas.Atlas{Size: TextSize, Ascent: 11, Descent: 3, Height: 16})
			return
		}
		l.f = atlas.NewFace(at)
	})
	return l.f
}

// Has reports whether the atlas holds r.
func (l *lazyAtlas) Has(r rune) bool { return l.face().Has(r) }

func (l *lazyAtlas) Close() error { return nil }

func (l *lazyAtlas) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	return l.face().Glyph(dot, r)
}

func (l *lazyAtlas) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	return l.face().GlyphBounds(r)
}

func (l *lazyAtlas) GlyphAdvance(r rune) (fixed.Int26_6, bool) { return l.face().GlyphAdvance(r) }

func (l *lazyAtlas) Kern(r0, r1 rune) fixed.Int26_6 { return 0 }

func (l *lazyAtlas) Metrics() font.Metrics { return l.face().Metrics() }

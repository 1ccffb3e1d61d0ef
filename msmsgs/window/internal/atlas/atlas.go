// Package atlas is the Messenger window's pre-rasterized glyph set: the
// glyphs of a large font (a CJK TrueType font of several megabytes) that
// the window's strings need, rasterized once at build time at one pixel
// size and stored gzip-compressed in a few tens of kilobytes. Face draws
// them through golang.org/x/image/font like any other face.
//
// File format (before gzip), little endian:
//
//	"MSGATLAS1\n"
//	u16 pixel size, i16 ascent, i16 descent, i16 height (pixels)
//	u32 glyph count
//	per glyph: u32 rune, i16 advance (1/64 px), i16 minX, i16 minY,
//	           u16 width, u16 height, width*height alpha bytes
//
// Glyphs are sorted by rune. Decode bounds everything it reads.
package atlas

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"sort"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

const magic = "MSGATLAS1\n"

// Bounds on what Decode accepts.
const (
	MaxBytes  = 4 << 20 // decompressed
	MaxGlyphs = 20000
	MaxSide   = 128
)

// ErrFormat is wrapped by every error about a malformed atlas.
var ErrFormat = errors.New("atlas: malformed glyph atlas")

// Glyph is one rasterized glyph: Mask covers Bounds relative to the dot.
type Glyph struct {
	Rune    rune
	Advance fixed.Int26_6
	Bounds  image.Rectangle
	Mask    []byte // Bounds.Dx()*Bounds.Dy() alpha values
}

// Atlas is a set of glyphs at one size.
type Atlas struct {
	Size                    int
	Ascent, Descent, Height int
	Glyphs                  []Glyph // sorted by Rune
}

// Encode writes a gzip-compressed atlas. The output depends only on a.
func Encode(a *Atlas) ([]byte, error) {
	var raw bytes.Buffer
	raw.WriteString(magic)
	w := func(v any) { binary.Write(&raw, binary.LittleEndian, v) }
	w(uint16(a.Size))
	w(int16(a.Ascent))
	w(int16(a.Descent))
	w(int16(a.Height))
	gs := append([]Glyph(nil), a.Glyphs...)
	sort.Slice(gs, func(i, j int) bool { return gs[i].Rune < gs[j].Rune })
	w(uint32(len(gs)))
	for _, g := range gs {
		dx, dy := g.Bounds.Dx(), g.Bounds.Dy()
		if dx > MaxSide || dy > MaxSide || len(g.Mask) != dx*dy {
			return nil, fmt.Errorf("atlas: glyph %U: %dx%d mask of %d bytes", g.Rune, dx, dy, len(g.Mask))
		}
		w(uint32(g.Rune))
		w(int16(g.Advance))
		w(int16(g.Bounds.Min.X))
		w(int16(g.Bounds.Min.Y))
		w(uint16(dx))
		w(uint16(dy))
		raw.Write(g.Mask)
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Decode reads a gzip-compressed atlas, refusing anything larger than the
// bounds or inconsistent.
func Decode(b []byte) (*Atlas, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if len(raw) > MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrFormat, MaxBytes)
	}
	if !bytes.HasPrefix(raw, []byte(magic)) {
		return nil, fmt.Errorf("%w: no %q header", ErrFormat, magic[:len(magic)-1])
	}
	r := bytes.NewReader(raw[len(magic):])
	var hdr struct {
		Size                    uint16
		Ascent, Descent, Height int16
		Count                   uint32
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrFormat, err)
	}
	if hdr.Size == 0 || hdr.Size > MaxSide || hdr.Count > MaxGlyphs {
		return nil, fmt.Errorf("%w: size %d, %d glyphs", ErrFormat, hdr.Size, hdr.Count)
	}
	a := &Atlas{Size: int(hdr.Size), Ascent: int(hdr.Ascent), Descent: int(hdr.Descent), Height: int(hdr.Height)}
	a.Glyphs = make([]Glyph, 0, hdr.Count)
	for i := uint32(0); i < hdr.Count; i++ {
		var gh struct {
			Rune       uint32
			Advance    int16
			MinX, MinY int16
			W, H       uint16
		}
		if err := binary.Read(r, binary.LittleEndian, &gh); err != nil {
			return nil, fmt.Errorf("%w: glyph %d: %v", ErrFormat, i, err)
		}
		if gh.W > MaxSide || gh.H > MaxSide || gh.Rune > 0x10FFFF {
			return nil, fmt.Errorf("%w: glyph %d: rune %#x of %dx%d", ErrFormat, i, gh.Rune, gh.W, gh.H)
		}
		if i > 0 && rune(gh.Rune) <= a.Glyphs[i-1].Rune {
			return nil, fmt.Errorf("%w: glyphs not sorted at %d", ErrFormat, i)
		}
		m := make([]byte, int(gh.W)*int(gh.H))
		if _, err := io.ReadFull(r, m); err != nil {
			return nil, fmt.Errorf("%w: glyph %d mask: %v", ErrFormat, i, err)
		}
		min := image.Pt(int(gh.MinX), int(gh.MinY))
		a.Glyphs = append(a.Glyphs, Glyph{Rune: rune(gh.Rune), Advance: fixed.Int26_6(gh.Advance),
			Bounds: image.Rectangle{Min: min, Max: min.Add(image.Pt(int(gh.W), int(gh.H)))}, Mask: m})
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last glyph", ErrFormat, r.Len())
	}
	return a, nil
}

// Face is a font.Face over an atlas. Glyphs are drawn at whole pixels.
type Face struct {
	a     *Atlas
	masks map[rune]*image.Alpha
	idx   map[rune]int
}

var _ font.Face = (*Face)(nil)

// NewFace returns a face drawing a's glyphs.
func NewFace(a *Atlas) *Face {
	f := &Face{a: a, masks: make(map[rune]*image.Alpha, len(a.Glyphs)), idx: make(map[rune]int, len(a.Glyphs))}
	for i, g := range a.Glyphs {
		f.idx[g.Rune] = i
		f.masks[g.Rune] = &image.Alpha{Pix: g.Mask, Stride: g.Bounds.Dx(), Rect: g.Bounds}
	}
	return f
}

// Has reports whether the atlas holds r.
func (f *Face) Has(r rune) bool { _, ok := f.idx[r]; return ok }

// Close does nothing.
func (f *Face) Close() error { return nil }

// Glyph implements font.Face.
func (f *Face) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	i, ok := f.idx[r]
	if !ok {
		return image.Rectangle{}, nil, image.Point{}, 0, false
	}
	g := &f.a.Glyphs[i]
	off := image.Pt(dot.X.Round(), dot.Y.Round())
	return g.Bounds.Add(off), f.masks[r], g.Bounds.Min, g.Advance, true
}

// GlyphBounds implements font.Face.
func (f *Face) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	i, ok := f.idx[r]
	if !ok {
		return fixed.Rectangle26_6{}, 0, false
	}
	g := &f.a.Glyphs[i]
	b := fixed.R(g.Bounds.Min.X, g.Bounds.Min.Y, g.Bounds.Max.X, g.Bounds.Max.Y)
	return b, g.Advance, true
}

// GlyphAdvance implements font.Face.
func (f *Face) GlyphAdvance(r rune) (fixed.Int26_6, bool) {
	i, ok := f.idx[r]
	if !ok {
		return 0, false
	}
	return f.a.Glyphs[i].Advance, true
}

// Kern implements font.Face: the atlas keeps no kerning.
func (f *Face) Kern(r0, r1 rune) fixed.Int26_6 { return 0 }

// Metrics implements font.Face.
func (f *Face) Metrics() font.Metrics {
	return font.Metrics{Height: fixed.I(f.a.Height), Ascent: fixed.I(f.a.Ascent), Descent: fixed.I(f.a.Descent),
		CapHeight: fixed.I(f.a.Ascent), XHeight: fixed.I(f.a.Ascent / 2)}
}

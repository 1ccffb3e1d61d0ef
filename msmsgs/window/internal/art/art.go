// Package art draws the Messenger window's pictures (the MSN emoticons as
// animated GIFs, the status icons as PNGs) and rasterizes its Japanese
// glyph atlas. Only the generator (internal/assetgen) and the test that
// checks the committed assets use it; the window decodes the files.
package art

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/window/internal/atlas"
)

// DefaultCJKFont is IPA P Gothic from Debian's fonts-ipafont-gothic.
const DefaultCJKFont = "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf"

// TextSize is the pixel size of the window's body text (the atlas size).
const TextSize = 13

// File is one generated asset.
type File struct {
	Name string
	Data []byte
}

// Emoticon names by MSN text code; the file is NAME.gif.
var Emoticons = []struct{ Code, Name string }{
	{":)", "smile"}, {":(", "sad"}, {"(H)", "hot"}, {"(Y)", "thumbsup"}, {":D", "grin"}, {";)", "wink"},
}

// Status icon files by status code; the file is status-CODE.png.
var Statuses = []string{"NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN", "FLN"}

// All returns every asset: emoticons, status icons and the glyph atlas.
func All(fontPath, localeDir string) ([]File, error) {
	var out []File
	for _, e := range Emoticons {
		b, err := Emoticon(e.Name)
		if err != nil {
			return nil, err
		}
		out = append(out, File{e.Name + ".gif", b})
	}
	for _, s := range Statuses {
		b, err := StatusIcon(s)
		if err != nil {
			return nil, err
		}
		out = append(out, File{"status-" + s + ".png", b})
	}
	b, err := Atlas(fontPath, localeDir)
	if err != nil {
		return nil, err
	}
	out = append(out, File{"cjk.atlas.gz", b})
	return out, nil
}

// The emoticon palette: index 0 is transparent.
var pal = color.Palette{
	color.RGBA{0, 0, 0, 0},
	color.RGBA{0, 0, 0, 255},       // 1 outline
	color.RGBA{255, 214, 0, 255},   // 2 face
	color.RGBA{255, 255, 255, 255}, // 3 white
	color.RGBA{64, 160, 255, 255},  // 4 tear blue
	color.RGBA{200, 40, 40, 255},   // 5 mouth red
	color.RGBA{40, 40, 40, 255},    // 6 glasses
	color.RGBA{240, 190, 140, 255}, // 7 skin (thumb)
	color.RGBA{180, 120, 70, 255},  // 8 skin shade
	color.RGBA{255, 160, 0, 255},   // 9 face shade
}

const emoSize = 19

type canvas struct{ *image.Paletted }

func newCanvas() canvas {
	return canvas{image.NewPaletted(image.Rect(0, 0, emoSize, emoSize), pal)}
}

// disc fills a disc of radius r around (cx, cy) with index c.
func (c canvas) disc(cx, cy, r float64, idx uint8) {
	for y := 0; y < emoSize; y++ {
		for x := 0; x < emoSize; x++ {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			if dx*dx+dy*dy <= r*r {
				c.SetColorIndex(x, y, idx)
			}
		}
	}
}

func (c canvas) rect(x0, y0, x1, y1 int, idx uint8) {
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			c.SetColorIndex(x, y, idx)
		}
	}
}

// arc draws points of a circle of radius r between angles a0 and a1
// (radians, 0 = right, clockwise as y grows down).
func (c canvas) arc(cx, cy, r, a0, a1 float64, idx uint8) {
	for a := a0; a <= a1; a += 0.05 {
		x, y := int(math.Floor(cx+r*math.Cos(a))), int(math.Floor(cy+r*math.Sin(a)))
		c.SetColorIndex(x, y, idx)
	}
}

func (c canvas) face() {
	c.disc(9.5, 9.5, 9.2, 1)
	c.disc(9.5, 9.5, 8.2, 2)
	c.arc(9.5, 9.5, 7.2, 0.2, 1.3, 9)
}

func (c canvas) eyes(open bool) {
	if open {
		c.rect(6, 5, 8, 9, 1)
		c.rect(11, 5, 13, 9, 1)
	} else {
		c.rect(5, 7, 8, 8, 1)
		c.rect(11, 7, 14, 8, 1)
	}
}

// Emoticon returns the GIF of a named emoticon.
func Emoticon(name string) ([]byte, error) {
	var frames []*image.Paletted
	var delays []int // 1/100 s
	add := func(c canvas, d int) { frames = append(frames, c.Paletted); delays = append(delays, d) }
	switch name {
	case "smile", "grin", "wink":
		for i, open := range []bool{true, false} {
			c := newCanvas()
			c.face()
			switch {
			case name == "wink" && !open:
				c.rect(6, 5, 8, 9, 1)
				c.rect(11, 7, 14, 8, 1)
			default:
				c.eyes(open)
			}
			if name == "grin" {
				c.disc(9.5, 11.5, 4.6, 1)
				c.rect(4, 6, 16, 12, 2)
				c.eyes(open)
				c.rect(6, 12, 14, 13, 3)
			} else {
				c.arc(9.5, 9.5, 5, 0.5, math.Pi-0.5, 1)
				c.arc(9.5, 9.6, 5.2, 0.6, math.Pi-0.6, 1)
			}
			add(c, []int{180, 15}[i])
		}
	case "sad":
		for i := 0; i < 4; i++ {
			c := newCanvas()
			c.face()
			c.eyes(true)
			c.arc(9.5, 18, 5, math.Pi+0.7, 2*math.Pi-0.7, 1)
			c.arc(9.5, 18.1, 5.2, math.Pi+0.8, 2*math.Pi-0.8, 1)
			if i > 0 {
				c.disc(6.5, 9.5+float64(i)*1.6, 1.3, 4)
			}
			add(c, []int{120, 20, 20, 20}[i])
		}
	case "hot":
		for i := 0; i < 4; i++ {
			c := newCanvas()
			c.face()
			c.rect(3, 6, 16, 7, 6)
			c.rect(4, 6, 9, 10, 6)
			c.rect(10, 6, 15, 10, 6)
			if i > 0 {
				x := 3 + i*3
				c.rect(x, 7, x+1, 8, 3)
			}
			c.arc(9.5, 9.5, 5, 0.5, math.Pi-0.5, 1)
			add(c, []int{150, 10, 10, 10}[i])
		}
	case "thumbsup":
		for i := 0; i < 2; i++ {
			c := newCanvas()
			dy := i
			c.rect(3, 9+dy, 7, 17+dy, 1)
			c.rect(4, 10+dy, 6, 16+dy, 8)
			c.rect(7, 8+dy, 16, 17+dy, 1)
			c.rect(8, 9+dy, 15, 16+dy, 7)
			c.rect(8, 2+dy, 12, 9+dy, 1)
			c.rect(9, 3+dy, 11, 10+dy, 7)
			c.rect(8, 11+dy, 15, 12+dy, 8)
			c.rect(8, 13+dy, 15, 14+dy, 8)
			add(c, 40)
		}
	default:
		return nil, fmt.Errorf("art: no emoticon %q", name)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, &gif.GIF{Image: frames, Delay: delays, LoopCount: 0,
		Config: image.Config{ColorModel: pal, Width: emoSize, Height: emoSize}}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// statusColor is the body colour of the buddy icon for a status.
func statusColor(code string) color.RGBA {
	switch code {
	case "NLN":
		return color.RGBA{46, 170, 60, 255}
	case "BSY", "PHN":
		return color.RGBA{214, 48, 40, 255}
	case "IDL", "BRB", "AWY", "LUN":
		return color.RGBA{238, 160, 16, 255}
	}
	return color.RGBA{150, 150, 150, 255}
}

// StatusIcon returns the 16x16 PNG buddy icon of a status code.
func StatusIcon(code string) ([]byte, error) {
	const n = 16
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	col := statusColor(code)
	dark := color.NRGBA{col.R / 2, col.G / 2, col.B / 2, 255}
	// 4x supersampled shapes: head and shoulders.
	inside := func(fx, fy float64) int {
		hx, hy := fx-7, fy-5
		if hx*hx+hy*hy < 3.6*3.6 {
			return 1
		}
		bx, by := (fx-7)/6.2, (fy-15.5)/6.5
		if bx*bx+by*by < 1 && fy < 15.5 {
			return 1
		}
		return 0
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			cov := 0
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					cov += inside(float64(x)+(float64(sx)+0.5)/4, float64(y)+(float64(sy)+0.5)/4)
				}
			}
			if cov > 0 {
				img.SetNRGBA(x, y, color.NRGBA{col.R, col.G, col.B, uint8(cov * 255 / 16)})
			}
		}
	}
	// Badge: busy/phone a white bar, away-like a white clock, hidden/offline a ring.
	badge := func(fill color.NRGBA) {
		for y := 9; y < 16; y++ {
			for x := 9; x < 16; x++ {
				dx, dy := float64(x)-12, float64(y)-12
				switch d := dx*dx + dy*dy; {
				case d <= 9:
					img.SetNRGBA(x, y, fill)
				case d <= 12.5:
					img.SetNRGBA(x, y, dark)
				}
			}
		}
	}
	white := color.NRGBA{255, 255, 255, 255}
	switch code {
	case "BSY", "PHN":
		badge(color.NRGBA{col.R, col.G, col.B, 255})
		for x := 10; x <= 14; x++ {
			img.SetNRGBA(x, 12, white)
		}
	case "IDL", "BRB", "AWY", "LUN":
		badge(white)
		img.SetNRGBA(12, 10, dark)
		img.SetNRGBA(12, 11, dark)
		img.SetNRGBA(12, 12, dark)
		img.SetNRGBA(13, 12, dark)
	case "HDN", "FLN":
		badge(white)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// AtlasRunes returns the runes the atlas must hold: every rune of the
// shipped locale files that Go Regular lacks, the kana, CJK punctuation and
// the full-width forms.
func AtlasRunes(localeDir string) ([]rune, error) {
	latin, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	var buf sfnt.Buffer
	want := map[rune]bool{}
	for r := rune(0x3000); r <= 0x30FF; r++ {
		want[r] = true
	}
	for r := rune(0xFF01); r <= 0xFF5E; r++ {
		want[r] = true
	}
	paths, err := filepath.Glob(filepath.Join(localeDir, "*"+msgslang.Ext))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("art: no locale files in %s", localeDir)
	}
	for _, p := range paths {
		l, err := msgslang.ReadFile(p)
		if err != nil {
			return nil, err
		}
		for _, m := range l.Messages {
			texts := []string{m.Other}
			for _, f := range m.Forms {
				texts = append(texts, f)
			}
			for _, s := range texts {
				for _, r := range s {
					if !unicode.IsGraphic(r) {
						continue
					}
					if i, err := latin.GlyphIndex(&buf, r); err == nil && i != 0 {
						continue
					}
					want[r] = true
				}
			}
		}
	}
	out := make([]rune, 0, len(want))
	for r := range want {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Atlas rasterizes the runes AtlasRunes lists from the font at TextSize.
// Runes the font lacks are left out (the window draws a box for them).
func Atlas(fontPath, localeDir string) ([]byte, error) {
	b, err := os.ReadFile(fontPath)
	if err != nil {
		return nil, fmt.Errorf("art: %w (install fonts-ipafont-gothic)", err)
	}
	f, err := opentype.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("art: %s: %w", fontPath, err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: TextSize, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	runes, err := AtlasRunes(localeDir)
	if err != nil {
		return nil, err
	}
	var sb sfnt.Buffer
	m := face.Metrics()
	a := &atlas.Atlas{Size: TextSize, Ascent: m.Ascent.Ceil(), Descent: m.Descent.Ceil(), Height: m.Height.Ceil()}
	for _, r := range runes {
		if i, err := f.GlyphIndex(&sb, r); err != nil || i == 0 {
			continue
		}
		dr, mask, mp, adv, ok := face.Glyph(fixed.Point26_6{}, r)
		if !ok {
			continue
		}
		alpha := image.NewAlpha(dr)
		draw.Draw(alpha, dr, mask, mp, draw.Src)
		a.Glyphs = append(a.Glyphs, atlas.Glyph{Rune: r, Advance: adv, Bounds: dr, Mask: alpha.Pix})
	}
	return atlas.Encode(a)
}

// Missing returns the graphic runes of s, once each, that have reports false for.
func Missing(s string, have func(rune) bool) []rune {
	var out []rune
	for _, r := range s {
		if unicode.IsGraphic(r) && !unicode.IsSpace(r) && !have(r) && !strings.ContainsRune(string(out), r) {
			out = append(out, r)
		}
	}
	return out
}

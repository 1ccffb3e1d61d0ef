package browserhost

import (
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/oemkit/messenger/feature/browserhost/fonts"
)

// Page is a laid-out page: what Draw paints.
type Page struct {
	Doc    *Doc
	Width  int
	Height int
	ops    []op
	// LinkBoxes are the boxes of each link's text, by Doc.Links index.
	LinkBoxes [][]image.Rectangle
}

type opKind int

const (
	opText opKind = iota
	opImage
	opRect
)

type op struct {
	kind  opKind
	r     image.Rectangle // box (text: x, baseline in Min.Y-ascent..)
	base  int             // text baseline
	face  font.Face
	color color.RGBA
	text  string
	img   image.Image
}

const margin = 8

var grey = color.RGBA{0x99, 0x99, 0x99, 255}

func headingSize(level int) int {
	switch level {
	case 1:
		return 26
	case 2:
		return 21
	case 3:
		return 18
	}
	return 15
}

// Layout lays doc out for a pane width pixels wide; pics holds the
// decoded first frame of each Doc.Images entry, or nil with a reason in
// why (the alt text and the reason are shown instead).
func Layout(doc *Doc, width int, fs *fonts.Set, pics []image.Image, why []string) *Page {
	pg := &Page{Doc: doc, Width: width, LinkBoxes: make([][]image.Rectangle, len(doc.Links))}
	pg.ops = make([]op, 0, 4*len(doc.Blocks))
	y := margin
	for i, b := range doc.Blocks {
		if i > 0 && doc.Blocks[i-1].Kind == TableRow && b.Kind != TableRow {
			y += 8 // space below a table
		}
		size := 14
		if b.Kind == Heading {
			size = headingSize(b.Level)
		}
		switch b.Kind {
		case Rule:
			y += 6
			pg.ops = append(pg.ops, op{kind: opRect, r: image.Rect(margin, y, width-margin, y+1), color: grey})
			y += 7
		case TableRow:
			n := len(b.Cells)
			if n == 0 {
				continue
			}
			colW := (width - 2*margin) / n
			bottom := y
			for i, c := range b.Cells {
				x0 := margin + i*colW
				l := &liner{pg: pg, fs: fs, size: size, left: x0 + 4, right: x0 + colW - 4, y: y + 2, pics: pics, why: why}
				l.run(c)
				bottom = max(bottom, l.end()+2)
			}
			for i := 0; i <= n; i++ {
				x := margin + i*colW
				pg.ops = append(pg.ops, op{kind: opRect, r: image.Rect(x, y, x+1, bottom+1), color: grey})
			}
			pg.ops = append(pg.ops, op{kind: opRect, r: image.Rect(margin, y, margin+n*colW+1, y+1), color: grey},
				op{kind: opRect, r: image.Rect(margin, bottom, margin+n*colW+1, bottom+1), color: grey})
			y = bottom + 1
		default:
			left := margin
			if b.Kind == ListItem {
				left += 20 * b.Level
			}
			l := &liner{pg: pg, fs: fs, size: size, left: left, right: width - margin, y: y, pics: pics, why: why}
			if b.Kind == ListItem {
				f := fs.Face(fonts.Style{Size: size})
				m := f.Metrics()
				w := font.MeasureString(f, b.Marker).Ceil()
				pg.ops = append(pg.ops, op{kind: opText, base: y + m.Ascent.Ceil(), r: image.Rect(left-w-6, y, left-6, y+m.Height.Ceil()), face: f, color: black, text: b.Marker})
			}
			l.run(b.Inline)
			y = l.end() + size/2
		}
	}
	if len(doc.Cuts) > 0 {
		l := &liner{pg: pg, fs: fs, size: 12, left: margin, right: width - margin, y: y + 4}
		l.run([]Inline{{Text: "⚠ " + strings.Join(doc.Cuts, "; "), Style: Style{Italic: true, Color: color.RGBA{0xa0, 0, 0, 255}, Link: -1}, Image: -1}})
		y = l.end()
	}
	pg.Height = y + margin
	return pg
}

// liner fills lines between left and right from y down.
type liner struct {
	pg          *Page
	fs          *fonts.Set
	size        int
	left, right int
	y           int
	x           int
	line        []op // ops of the current line, baseline fixed at break
	lineH       int  // tallest image of the line
	pics        []image.Image
	why         []string
	pendSpace   bool
	faces       [2][2]font.Face // by bold, italic
}

func (l *liner) face(st Style) font.Face {
	b, i := 0, 0
	if st.Bold {
		b = 1
	}
	if st.Italic {
		i = 1
	}
	if l.faces[b][i] == nil {
		l.faces[b][i] = l.fs.Face(fonts.Style{Size: l.size, Bold: st.Bold, Italic: st.Italic})
	}
	return l.faces[b][i]
}

func (l *liner) run(ins []Inline) {
	l.x = l.left
	for _, in := range ins {
		if in.Image >= 0 {
			var m image.Image
			if in.Image < len(l.pics) {
				m = l.pics[in.Image]
			}
			if m == nil {
				alt := l.pg.Doc.Images[in.Image].Alt
				reason := "not shown"
				if in.Image < len(l.why) && l.why[in.Image] != "" {
					reason = l.why[in.Image]
				}
				if alt != "" {
					reason = alt + ": " + reason
				}
				l.words("["+reason+"]", in.Style)
				continue
			}
			w, h := m.Bounds().Dx(), m.Bounds().Dy()
			w = min(w, l.right-l.left)
			if l.x+w > l.right && l.x > l.left {
				l.brk()
			}
			l.line = append(l.line, op{kind: opImage, r: image.Rect(l.x, 0, l.x+w, h), img: m})
			l.lineH = max(l.lineH, h)
			l.x += w
			l.pendSpace = false
			continue
		}
		l.words(in.Text, in.Style)
	}
}

func (l *liner) words(s string, st Style) {
	f := l.face(st)
	space := font.MeasureString(f, " ").Ceil()
	if strings.HasPrefix(s, " ") {
		l.pendSpace = l.x > l.left
	}
	for _, w := range strings.Fields(s) {
		for w != "" {
			ww := font.MeasureString(f, w).Ceil()
			x := l.x
			if l.pendSpace {
				x += space
			}
			if x+ww > l.right && l.x > l.left {
				l.brk()
				continue
			}
			piece := w
			if x+ww > l.right {
				// One word wider than the line (CJK text has no spaces):
				// break it between runes.
				piece = fit(f, w, l.right-x)
				ww = font.MeasureString(f, piece).Ceil()
			}
			l.line = append(l.line, op{kind: opText, r: image.Rect(x, 0, x+ww, 0), face: f, color: st.Color, text: piece, img: nil, base: st.Link})
			l.x = x + ww
			l.pendSpace = false
			w = w[len(piece):]
			if w != "" {
				l.brk()
			}
		}
		l.pendSpace = true
	}
	if !strings.HasSuffix(s, " ") {
		l.pendSpace = false
	}
}

// fit returns the longest prefix of w (at least one rune) that fits in px.
func fit(f font.Face, w string, px int) string {
	adv := fixed.Int26_6(0)
	for i, r := range w {
		a, _ := f.GlyphAdvance(r)
		if (adv+a).Ceil() > px && i > 0 {
			return w[:i]
		}
		adv += a
	}
	return w
}

// brk ends the current line: it fixes the baseline of its ops.
func (l *liner) brk() {
	m := l.face(Style{}).Metrics()
	asc, h := m.Ascent.Ceil(), m.Height.Ceil()
	base := l.y + max(asc, l.lineH)
	prevLink, prevX := -1, 0
	for _, o := range l.line {
		switch o.kind {
		case opText:
			link := o.base
			o.base = base
			o.r = image.Rect(o.r.Min.X, base-asc, o.r.Max.X, base-asc+h)
			if link >= 0 && link < len(l.pg.LinkBoxes) {
				l.pg.LinkBoxes[link] = append(l.pg.LinkBoxes[link], o.r)
				// One underline through the words of a link on a line.
				x0 := o.r.Min.X
				if prevLink == link {
					x0 = prevX
				}
				l.pg.ops = append(l.pg.ops, op{kind: opRect, r: image.Rect(x0, base+2, o.r.Max.X, base+3), color: o.color})
				prevX = o.r.Max.X
			}
			prevLink = link
		case opImage:
			prevLink = -1
			ih := o.r.Dy()
			o.r = image.Rect(o.r.Min.X, base-ih, o.r.Max.X, base)
		}
		l.pg.ops = append(l.pg.ops, o)
	}
	l.y = base + (h - asc)
	l.line = l.line[:0]
	l.lineH = 0
	l.x = l.left
	l.pendSpace = false
}

// end ends the last line and returns the y below it.
func (l *liner) end() int {
	if len(l.line) > 0 {
		l.brk()
	}
	return l.y
}

// Draw paints the page into dst's rectangle r, scrolled down by scroll
// pixels, with link focus (an index into Doc.Links, or -1) outlined.
func (pg *Page) Draw(dst *image.RGBA, r image.Rectangle, scroll, focus int) {
	r = r.Intersect(dst.Bounds())
	sub := dst.SubImage(r).(*image.RGBA)
	draw.Draw(dst, r, image.White, image.Point{}, draw.Src)
	off := r.Min.Sub(image.Pt(0, scroll))
	for _, o := range pg.ops {
		box := o.r.Add(off)
		if !box.Overlaps(r) && o.kind != opText {
			continue
		}
		switch o.kind {
		case opRect:
			draw.Draw(dst, box.Intersect(r), image.NewUniform(o.color), image.Point{}, draw.Src)
		case opImage:
			draw.Draw(dst, box.Intersect(r), o.img, o.img.Bounds().Min.Add(box.Intersect(r).Min.Sub(box.Min)), draw.Over)
		case opText:
			if box.Max.Y < r.Min.Y || box.Min.Y > r.Max.Y {
				continue
			}
			d := font.Drawer{Dst: sub, Src: image.NewUniform(o.color), Face: o.face, Dot: fixed.P(box.Min.X, o.base+off.Y)}
			d.DrawString(o.text)
		}
	}
	if focus >= 0 && focus < len(pg.LinkBoxes) {
		for _, b := range pg.LinkBoxes[focus] {
			outline(dst, b.Add(off).Inset(-2).Intersect(r), color.RGBA{0xff, 0x80, 0, 255})
		}
	}
}

func outline(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	if r.Empty() {
		return
	}
	u := image.NewUniform(c)
	draw.Draw(dst, image.Rect(r.Min.X, r.Min.Y, r.Max.X, r.Min.Y+1), u, image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(r.Min.X, r.Max.Y-1, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(r.Min.X, r.Min.Y, r.Min.X+1, r.Max.Y), u, image.Point{}, draw.Src)
	draw.Draw(dst, image.Rect(r.Max.X-1, r.Min.Y, r.Max.X, r.Max.Y), u, image.Point{}, draw.Src)
}

// Render draws the whole page, unscrolled and without focus, into a new
// picture Width wide and Height tall (at most maxH; 0: no limit).
func (pg *Page) Render(maxH int) *image.RGBA {
	h := max(pg.Height, 1)
	if maxH > 0 {
		h = min(h, maxH)
	}
	dst := image.NewRGBA(image.Rect(0, 0, pg.Width, h))
	pg.Draw(dst, dst.Bounds(), 0, -1)
	return dst
}

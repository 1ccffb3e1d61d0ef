// Package browserhost is the browser control host (the CE item
// SYSGEN_SHDOCVW): a pane that fetches a page through feature/wininet
// (proxies, the device certificate store), renders a documented HTML
// subset into an image.RGBA, and follows links from the keyboard.
//
// The subset: <title>; headings <h1>–<h6>; <p>, <div>, <br>, <hr>;
// <ul>/<ol> with <li> (nested); <a href> links; <img src alt> through the
// imaging service (GIF and PNG when the design has their decoders; the alt
// text and the reason otherwise); simple tables <table>/<tr>/<td>/<th>
// (equal columns, no spans); <b>/<strong>, <i>/<em>; colour from
// <font color> and style="color:..." (#rgb, #rrggbb, and the 16 HTML
// colour names); UTF-8 text. Other elements render their text; <script>,
// <style> and <head> content is not shown.
//
// Hostile pages are bounded (Limits): bytes read (the rest is cut),
// element nesting (deeper markup is flattened), elements (the page is
// cut), images fetched (the rest show their alt text), bytes and pixels of
// each image (the imaging service's bounds), and time (a page not loaded
// within MaxTime is refused with ErrTooSlow; a parse that reaches it is
// cut). Each cut is listed in Doc.Cuts and drawn at the page's foot.
//
// Use: New (or NewWithClient) makes a pane of a given width; Open loads a
// page; Draw paints the visible part into the window's RGBA at the
// pane's scroll position; HandleKey moves the link focus (Tab,
// Shift-Tab), follows it (Enter), scrolls (Up, Down) and goes back
// (Back); Render draws the whole page for screenshots. Animated GIFs show
// their first frame.
package browserhost

import (
	"bytes"
	"fmt"
	"image/color"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Limits bound one page. Zero fields take DefaultLimits.
type Limits struct {
	MaxBytes      int           // HTML bytes read
	MaxDepth      int           // element nesting kept
	MaxNodes      int           // tokens parsed
	MaxImages     int           // images fetched and decoded
	MaxImageBytes int           // bytes of one image
	MaxTime       time.Duration // fetch, parse, images and layout
}

// DefaultLimits suit a service start page on a small device.
var DefaultLimits = Limits{
	MaxBytes:      512 << 10,
	MaxDepth:      64,
	MaxNodes:      50000,
	MaxImages:     32,
	MaxImageBytes: 1 << 20,
	MaxTime:       5 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes > 0 {
		d.MaxBytes = l.MaxBytes
	}
	if l.MaxDepth > 0 {
		d.MaxDepth = l.MaxDepth
	}
	if l.MaxNodes > 0 {
		d.MaxNodes = l.MaxNodes
	}
	if l.MaxImages > 0 {
		d.MaxImages = l.MaxImages
	}
	if l.MaxImageBytes > 0 {
		d.MaxImageBytes = l.MaxImageBytes
	}
	if l.MaxTime > 0 {
		d.MaxTime = l.MaxTime
	}
	return d
}

// Style is the inline style of a run of text.
type Style struct {
	Bold, Italic bool
	Color        color.RGBA
	// Link is the index into Doc.Links, or -1.
	Link int
}

// Inline is a run of text or one image.
type Inline struct {
	Text  string
	Style Style
	// Image is the index into Doc.Images, or -1.
	Image int
}

// BlockKind says how a block is laid out.
type BlockKind int

const (
	Para BlockKind = iota
	Heading
	ListItem
	TableRow
	Rule
)

// Block is one laid-out unit: a paragraph, heading, list item, table row
// or rule.
type Block struct {
	Kind   BlockKind
	Level  int    // heading level 1–6; list nesting depth from 1
	Marker string // list item marker
	Inline []Inline
	// Cells are a table row's cells.
	Cells [][]Inline
}

// ImageRef is an <img> of the page.
type ImageRef struct {
	URL string
	Alt string
}

// Doc is a parsed page.
type Doc struct {
	Title  string
	Blocks []Block
	Links  []string // absolute URLs
	Images []ImageRef
	// Cuts say what of the page was cut by the limits.
	Cuts []string
}

var black = color.RGBA{0, 0, 0, 255}
var linkBlue = color.RGBA{0, 0, 0xcc, 255}

type open struct {
	a     atom.Atom
	style Style
	list  *listState
}

type listState struct {
	ordered bool
	n       int
}

type parser struct {
	doc      *Doc
	base     *url.URL
	lim      Limits
	stack    []open
	flat     int // elements nested beyond MaxDepth, not kept
	cur      *Block
	cell     int // current table cell, -1 outside a cell
	inTitle  bool
	hidden   int // inside script/style/head
	depthCut bool
}

// Parse parses an HTML page (at most lim.MaxBytes of it) whose links are
// relative to base. It never fails: what it cannot keep is listed in
// Doc.Cuts.
func Parse(data []byte, base *url.URL, lim Limits) *Doc {
	lim = lim.withDefaults()
	p := &parser{doc: &Doc{}, base: base, lim: lim, cell: -1}
	if len(data) > lim.MaxBytes {
		p.doc.Cuts = append(p.doc.Cuts, fmt.Sprintf("page longer than %d bytes: cut there", lim.MaxBytes))
		data = data[:lim.MaxBytes]
	}
	deadline := time.Now().Add(lim.MaxTime)
	z := html.NewTokenizer(bytes.NewReader(data))
	z.SetMaxBuf(lim.MaxBytes)
	nodes := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		nodes++
		if nodes > lim.MaxNodes {
			p.doc.Cuts = append(p.doc.Cuts, fmt.Sprintf("page cut after %d elements", lim.MaxNodes))
			break
		}
		if nodes%512 == 0 && time.Now().After(deadline) {
			p.doc.Cuts = append(p.doc.Cuts, fmt.Sprintf("page cut: not parsed within %v", lim.MaxTime))
			break
		}
		switch tt {
		case html.TextToken:
			p.text(string(z.Text()))
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			attrs := map[string]string{}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if len(attrs) < 16 {
					attrs[string(k)] = string(v)
				}
			}
			p.start(atom.Lookup(name), attrs, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			p.end(atom.Lookup(name))
		}
	}
	p.flush()
	if p.depthCut {
		p.doc.Cuts = append(p.doc.Cuts, fmt.Sprintf("markup nested deeper than %d elements was flattened", lim.MaxDepth))
	}
	return p.doc
}

func (p *parser) style() Style {
	if len(p.stack) == 0 {
		return Style{Color: black, Link: -1}
	}
	return p.stack[len(p.stack)-1].style
}

func (p *parser) flush() {
	if p.cur != nil && (len(p.cur.Inline) > 0 || len(p.cur.Cells) > 0 || p.cur.Kind == Rule || p.cur.Kind == ListItem) {
		p.doc.Blocks = append(p.doc.Blocks, *p.cur)
	}
	p.cur = nil
	p.cell = -1
}

func (p *parser) block(kind BlockKind, level int) {
	p.flush()
	p.cur = &Block{Kind: kind, Level: level}
}

func (p *parser) add(in Inline) {
	if p.cur == nil {
		p.cur = &Block{Kind: Para}
	}
	if p.cur.Kind == TableRow {
		if p.cell < 0 {
			p.cur.Cells = append(p.cur.Cells, nil)
			p.cell = len(p.cur.Cells) - 1
		}
		p.cur.Cells[p.cell] = append(p.cur.Cells[p.cell], in)
		return
	}
	p.cur.Inline = append(p.cur.Inline, in)
}

func (p *parser) text(s string) {
	if p.hidden > 0 {
		return
	}
	if p.inTitle {
		if len(p.doc.Title) < 256 {
			p.doc.Title += strings.Join(strings.Fields(s), " ")
		}
		return
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		if s != "" && p.cur != nil {
			p.add(Inline{Text: " ", Style: p.style(), Image: -1})
		}
		return
	}
	t := strings.Join(f, " ")
	if isSpace(s[0]) {
		t = " " + t
	}
	if isSpace(s[len(s)-1]) {
		t += " "
	}
	p.add(Inline{Text: t, Style: p.style(), Image: -1})
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\f' }

var void = map[atom.Atom]bool{atom.Img: true, atom.Br: true, atom.Hr: true, atom.Meta: true, atom.Link: true, atom.Input: true, atom.Area: true, atom.Base: true, atom.Col: true, atom.Embed: true, atom.Source: true, atom.Wbr: true}

func (p *parser) start(a atom.Atom, attrs map[string]string, selfClosing bool) {
	st := p.style()
	var list *listState
	switch a {
	case atom.Script, atom.Style, atom.Head, atom.Noscript, atom.Template:
		if a == atom.Head {
			break // <title> lives in <head>
		}
		p.hidden++
	case atom.Title:
		p.inTitle = true
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		p.block(Heading, int(a.String()[1]-'0'))
		st.Bold = true
	case atom.P, atom.Div, atom.Blockquote, atom.Pre, atom.Center, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Table, atom.Form, atom.Dl, atom.Dt, atom.Dd:
		p.flush()
	case atom.Br:
		if p.cur != nil && p.cur.Kind == TableRow {
			p.add(Inline{Text: " ", Style: st, Image: -1})
		} else {
			p.flush()
		}
	case atom.Hr:
		p.block(Rule, 0)
		p.flush()
	case atom.Ul, atom.Ol:
		p.flush()
		list = &listState{ordered: a == atom.Ol}
	case atom.Li:
		depth, ls := 0, (*listState)(nil)
		for i := len(p.stack) - 1; i >= 0; i-- {
			if p.stack[i].list != nil {
				if ls == nil {
					ls = p.stack[i].list
				}
				depth++
			}
		}
		p.block(ListItem, max(depth, 1))
		p.cur.Marker = "•"
		if ls != nil && ls.ordered {
			ls.n++
			p.cur.Marker = strconv.Itoa(ls.n) + "."
		}
	case atom.Tr:
		p.block(TableRow, 0)
	case atom.Td, atom.Th:
		if p.cur == nil || p.cur.Kind != TableRow {
			p.block(TableRow, 0)
		}
		p.cur.Cells = append(p.cur.Cells, nil)
		p.cell = len(p.cur.Cells) - 1
		if a == atom.Th {
			st.Bold = true
		}
	case atom.B, atom.Strong:
		st.Bold = true
	case atom.I, atom.Em, atom.Cite, atom.Var:
		st.Italic = true
	case atom.A:
		if href, ok := attrs["href"]; ok && len(p.doc.Links) < p.lim.MaxNodes {
			if u, err := p.resolve(href); err == nil {
				p.doc.Links = append(p.doc.Links, u)
				st.Link = len(p.doc.Links) - 1
				st.Color = linkBlue
			}
		}
	case atom.Img:
		alt := strings.Join(strings.Fields(attrs["alt"]), " ")
		if src, ok := attrs["src"]; ok {
			if u, err := p.resolve(src); err == nil {
				p.doc.Images = append(p.doc.Images, ImageRef{URL: u, Alt: alt})
				p.add(Inline{Style: st, Image: len(p.doc.Images) - 1})
				break
			}
		}
		if alt != "" {
			p.add(Inline{Text: "[" + alt + "]", Style: st, Image: -1})
		}
	}
	if c, ok := attrs["color"]; ok && a == atom.Font {
		if col, ok := parseColor(c); ok {
			st.Color = col
		}
	}
	if s, ok := attrs["style"]; ok {
		if col, ok := styleColor(s); ok {
			st.Color = col
		}
	}
	if void[a] || selfClosing {
		return
	}
	if len(p.stack) >= p.lim.MaxDepth {
		p.flat++
		p.depthCut = true
		return
	}
	p.stack = append(p.stack, open{a: a, style: st, list: list})
}

func (p *parser) end(a atom.Atom) {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template:
		if p.hidden > 0 {
			p.hidden--
		}
	case atom.Title:
		p.inTitle = false
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.P, atom.Div, atom.Li, atom.Tr, atom.Table, atom.Ul, atom.Ol, atom.Blockquote, atom.Pre, atom.Center:
		p.flush()
	case atom.Td, atom.Th:
		p.cell = -1
	}
	if p.flat > 0 {
		p.flat--
		return
	}
	for i := len(p.stack) - 1; i >= 0; i-- {
		if p.stack[i].a == a {
			p.stack = p.stack[:i]
			return
		}
	}
}

func (p *parser) resolve(ref string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", err
	}
	if p.base != nil {
		u = p.base.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q", u.Scheme)
	}
	return u.String(), nil
}

var named = map[string]color.RGBA{
	"black": {0, 0, 0, 255}, "silver": {0xc0, 0xc0, 0xc0, 255}, "gray": {0x80, 0x80, 0x80, 255}, "white": {255, 255, 255, 255},
	"maroon": {0x80, 0, 0, 255}, "red": {255, 0, 0, 255}, "purple": {0x80, 0, 0x80, 255}, "fuchsia": {255, 0, 255, 255},
	"green": {0, 0x80, 0, 255}, "lime": {0, 255, 0, 255}, "olive": {0x80, 0x80, 0, 255}, "yellow": {255, 255, 0, 255},
	"navy": {0, 0, 0x80, 255}, "blue": {0, 0, 255, 255}, "teal": {0, 0x80, 0x80, 255}, "aqua": {0, 255, 255, 255},
}

func parseColor(s string) (color.RGBA, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if c, ok := named[s]; ok {
		return c, true
	}
	h, ok := strings.CutPrefix(s, "#")
	if !ok {
		return color.RGBA{}, false
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	if len(h) != 6 {
		return color.RGBA{}, false
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return color.RGBA{}, false
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, true
}

func styleColor(s string) (color.RGBA, bool) {
	for _, decl := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(decl, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "color") {
			return parseColor(v)
		}
	}
	return color.RGBA{}, false
}

// Text is the page's text as plain lines, one a block (table cells
// separated by " | ", list items after their marker), at most max bytes
// (0: no limit), cut between runes: for a window that shows text instead
// of the drawn page, and for tests.
func (d *Doc) Text(max int) string {
	var b strings.Builder
	inl := func(ins []Inline) {
		for _, in := range ins {
			if in.Image >= 0 {
				if alt := d.Images[in.Image].Alt; alt != "" {
					b.WriteString("[" + alt + "]")
				}
				continue
			}
			b.WriteString(in.Text)
		}
	}
	for _, bl := range d.Blocks {
		switch bl.Kind {
		case Rule:
			b.WriteString("----")
		case TableRow:
			for i, c := range bl.Cells {
				if i > 0 {
					b.WriteString(" | ")
				}
				inl(c)
			}
		case ListItem:
			b.WriteString(strings.Repeat("  ", bl.Level-1) + bl.Marker + " ")
			inl(bl.Inline)
		default:
			inl(bl.Inline)
		}
		b.WriteByte('\n')
		if max > 0 && b.Len() >= max {
			break
		}
	}
	s := b.String()
	if max > 0 && len(s) > max {
		// Cut before the rune that crosses max.
		cut := max
		for cut > 0 && cut > max-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

package window

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Colours of the window (Windows Messenger 5 on Windows CE).
var (
	colBG        = color.RGBA{255, 255, 255, 255}
	colTitle     = color.RGBA{10, 36, 106, 255}
	colTitleText = color.RGBA{255, 255, 255, 255}
	colHeader    = color.RGBA{214, 226, 247, 255}
	colText      = color.RGBA{0, 0, 0, 255}
	colDim       = color.RGBA{110, 110, 110, 255}
	colGroup     = color.RGBA{28, 63, 148, 255}
	colSel       = color.RGBA{199, 219, 245, 255}
	colSelLine   = color.RGBA{49, 106, 197, 255}
	colHint      = color.RGBA{236, 233, 216, 255}
	colLine      = color.RGBA{172, 168, 153, 255}
	colNotice    = color.RGBA{170, 40, 30, 255}
	colBar       = color.RGBA{46, 170, 60, 255}
	colMenu      = color.RGBA{250, 250, 246, 255}
)

// Layout, in pixels.
const (
	titleH  = 24
	headerH = 44
	hintH   = 20
	rowH    = 20
	groupH  = 22
	pad     = 8
	composH = 52
	emoSide = 19
)

// Texts gives the window's strings: a msgslang catalog's Text.
type Texts func(key string, args ...any) string

// Renderer draws a Model.
type Renderer struct {
	Fonts *Fonts
	Pics  *Pictures
	Text  Texts
	// Epoch is when animations started; frames are picked by the time
	// since then.
	Epoch time.Time
	// Voice says whether the design has voice calls (SYSGEN_RTC): the
	// hints then name F6.
	Voice bool
	// Start is the start page pane (nil: none, as without
	// SYSGEN_SHDOCVW).
	Start *StartPage
}

// Render draws m as it is at now into dst, and reports whether something
// on screen moves (an emoticon, the typing indicator), so the caller
// knows to draw again soon.
func (r *Renderer) Render(dst *image.RGBA, m *Model, now time.Time) (animated bool) {
	b := dst.Bounds()
	fill(dst, b, colBG)
	switch m.Screen {
	case ScreenSignIn:
		r.signIn(dst, m)
	case ScreenContacts:
		r.titleBar(dst, r.Text("win.title"))
		r.header(dst, m)
		r.contacts(dst, m, contactArea(b))
		if r.Voice {
			r.hint(dst, r.Text("win.hint-contacts-voice"))
		} else {
			r.hint(dst, r.Text("win.hint-contacts"))
		}
	case ScreenConversation:
		animated = r.conversation(dst, m, now)
	case ScreenStartPage:
		r.titleBar(dst, r.Text("win.start-title"))
		r.startPage(dst, startPageArea(b))
		r.hint(dst, r.Text("win.hint-start"))
	}
	if m.StatusMenu {
		r.statusMenu(dst, m)
	}
	return animated
}

func fill(dst *image.RGBA, rect image.Rectangle, c color.RGBA) {
	draw.Draw(dst, rect, image.NewUniform(c), image.Point{}, draw.Src)
}

// text draws s with its baseline at y and returns the advance; it cuts s
// with "..." to fit maxW pixels when maxW > 0.
func text(dst *image.RGBA, f font.Face, x, y int, s string, c color.RGBA, maxW int) int {
	if maxW > 0 && font.MeasureString(f, s).Ceil() > maxW {
		ell := font.MeasureString(f, "...").Ceil()
		for len(s) > 0 && font.MeasureString(f, s).Ceil()+ell > maxW {
			_, n := utf8.DecodeLastRuneInString(s)
			s = s[:len(s)-n]
		}
		s += "..."
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
	return (d.Dot.X - fixed.I(x)).Ceil()
}

func (r *Renderer) titleBar(dst *image.RGBA, title string) {
	b := dst.Bounds()
	fill(dst, image.Rect(b.Min.X, b.Min.Y, b.Max.X, b.Min.Y+titleH), colTitle)
	text(dst, r.Fonts.Title, b.Min.X+pad, b.Min.Y+17, title, colTitleText, b.Dx()-2*pad)
}

func (r *Renderer) hint(dst *image.RGBA, s string) {
	b := dst.Bounds()
	rect := image.Rect(b.Min.X, b.Max.Y-hintH, b.Max.X, b.Max.Y)
	fill(dst, rect, colHint)
	fill(dst, image.Rect(b.Min.X, rect.Min.Y, b.Max.X, rect.Min.Y+1), colLine)
	text(dst, r.Fonts.Regular, b.Min.X+pad, b.Max.Y-6, s, colText, b.Dx()-2*pad)
}

func (r *Renderer) icon(dst *image.RGBA, x, y int, st msnp.Status) {
	img := r.Pics.Status[string(st)]
	if img == nil {
		return
	}
	draw.Draw(dst, image.Rect(x, y, x+16, y+16), img, img.Bounds().Min, draw.Over)
}

func (r *Renderer) statusText(st msnp.Status) string {
	if st == "" {
		st = msnp.StatusOffline
	}
	return r.Text("status." + string(st))
}

func (r *Renderer) header(dst *image.RGBA, m *Model) {
	b := dst.Bounds()
	y0 := b.Min.Y + titleH
	fill(dst, image.Rect(b.Min.X, y0, b.Max.X, y0+headerH), colHeader)
	fill(dst, image.Rect(b.Min.X, y0+headerH-1, b.Max.X, y0+headerH), colLine)
	r.icon(dst, b.Min.X+pad, y0+6, m.Status)
	x := b.Min.X + pad + 22
	w := text(dst, r.Fonts.Bold, x, y0+18, m.NameOf(m.Account), colText, b.Dx()/2)
	text(dst, r.Fonts.Regular, x+w+6, y0+18, r.Text("win.my-status", r.statusText(m.Status)), colDim, b.Max.X-x-w-6-pad)
	text(dst, r.Fonts.Regular, x, y0+35, m.Account, colDim, b.Max.X-x-pad)
}

// ContactRowY returns the top of contact row i in a list area starting
// at y0 with no scrolling (used by tests and the pointer).
func (r *Renderer) contactLayout(m *Model, area image.Rectangle) (first int, ys []int, heads []int) {
	groups := m.Groups()
	y := area.Min.Y + 4
	for _, g := range groups {
		heads = append(heads, y)
		y += groupH
		for range g.Contacts {
			ys = append(ys, y)
			y += rowH
		}
	}
	// Scroll so the selected row is visible.
	if m.Selected < len(ys) {
		if over := ys[m.Selected] + rowH - area.Max.Y; over > 0 {
			first = over + rowH
		}
	}
	return first, ys, heads
}

func (r *Renderer) contacts(dst *image.RGBA, m *Model, area image.Rectangle) {
	if len(m.Contacts) == 0 {
		text(dst, r.Fonts.Regular, area.Min.X+pad, area.Min.Y+24, r.Text("win.no-contacts"), colDim, area.Dx()-2*pad)
		return
	}
	clip := dst.SubImage(area).(*image.RGBA)
	shift, ys, heads := r.contactLayout(m, area)
	row := 0
	for gi, g := range m.Groups() {
		hy := heads[gi] - shift
		if hy+groupH > area.Min.Y && hy < area.Max.Y {
			text(clip, r.Fonts.Bold, area.Min.X+pad, hy+15, r.Text("win.group", r.statusText(g.Status), len(g.Contacts)), colGroup, area.Dx()-2*pad)
		}
		for _, c := range g.Contacts {
			y := ys[row] - shift
			if y+rowH > area.Min.Y && y < area.Max.Y {
				if row == m.Selected && m.Screen == ScreenContacts {
					fill(clip, image.Rect(area.Min.X+pad/2, y, area.Max.X-pad/2, y+rowH), colSel)
					fill(clip, image.Rect(area.Min.X+pad/2, y, area.Min.X+pad/2+2, y+rowH), colSelLine)
				}
				r.icon(clip, area.Min.X+pad+8, y+2, c.Status)
				x := area.Min.X + pad + 30
				w := text(clip, r.Fonts.Regular, x, y+14, displayName(c), colText, (area.Max.X-x)*2/3)
				if c.Status != msnp.StatusOnline && c.Status != msnp.StatusOffline && c.Status != msnp.StatusHidden {
					text(clip, r.Fonts.Regular, x+w+6, y+14, "("+r.statusText(c.Status)+")", colDim, area.Max.X-x-w-6-pad)
				}
			}
			row++
		}
	}
}

func (r *Renderer) signIn(dst *image.RGBA, m *Model) {
	b := dst.Bounds()
	r.titleBar(dst, r.Text("win.title"))
	cx, cy := b.Min.X+b.Dx()/2, b.Min.Y+titleH+90
	// The two Messenger buddies.
	buddy(dst, cx-18, cy, color.RGBA{46, 170, 60, 255})
	buddy(dst, cx+14, cy+6, color.RGBA{40, 110, 210, 255})
	y := cy + 70
	center := func(f font.Face, s string, c color.RGBA) {
		w := font.MeasureString(f, s).Ceil()
		if w > b.Dx()-2*pad {
			w = b.Dx() - 2*pad
		}
		text(dst, f, cx-w/2, y, s, c, b.Dx()-2*pad)
		y += 22
	}
	if m.Form != nil {
		r.signInForm(dst, m, y)
		return
	}
	center(r.Fonts.Bold, r.Text("win.signin-name"), colText)
	center(r.Fonts.Regular, m.Account, colText)
	y += 10
	switch {
	case m.State == client.StateStopped:
		center(r.Fonts.Regular, r.Text("win.signin-failed", m.Error), colNotice)
		center(r.Fonts.Regular, r.Text("win.signin-hint"), colDim)
	case m.Error != "":
		center(r.Fonts.Regular, r.Text("win.disconnected", m.Error), colNotice)
	default:
		center(r.Fonts.Regular, r.Text("win.signing-in", m.Account), colDim)
		center(r.Fonts.Regular, r.Text("win.connecting"), colDim)
	}
}

// buddy draws the Messenger figure: a head and shoulders of radius 22.
func buddy(dst *image.RGBA, cx, cy int, c color.RGBA) {
	for y := -40; y <= 40; y++ {
		for x := -30; x <= 30; x++ {
			hx, hy := x, y+18
			in := hx*hx+hy*hy <= 14*14
			bx, by := float64(x)/26, float64(y-36)/34
			if !in && y < 36 && bx*bx+by*by <= 1 {
				in = true
			}
			if in {
				dst.SetRGBA(cx+x, cy+y, c)
			}
		}
	}
}

// item is a laid-out piece of a conversation line.
type item struct {
	s   string
	emo bool
	w   int
}

// wrap lays out a message into lines of at most width pixels.
func (r *Renderer) wrap(s string, width int) [][]item {
	f := r.Fonts.Regular
	var lines [][]item
	var cur []item
	curW := 0
	push := func(it item) {
		if curW+it.w > width && len(cur) > 0 {
			lines = append(lines, cur)
			cur, curW = nil, 0
			if strings.TrimSpace(it.s) == "" && !it.emo {
				return
			}
		}
		cur = append(cur, it)
		curW += it.w
	}
	for _, t := range r.Pics.Tokenize(s) {
		if t.Emoticon {
			push(item{s: t.Text, emo: true, w: emoSide + 2})
			continue
		}
		for _, word := range splitWords(t.Text) {
			w := font.MeasureString(f, word).Ceil()
			if w <= width {
				push(item{s: word, w: w})
				continue
			}
			for _, ru := range word { // a word longer than the line
				cw := font.MeasureString(f, string(ru)).Ceil()
				push(item{s: string(ru), w: cw})
			}
		}
	}
	if len(cur) > 0 || len(lines) == 0 {
		lines = append(lines, cur)
	}
	return lines
}

// splitWords splits s before each space run, keeping the spaces.
func splitWords(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s); i++ {
		if s[i] == ' ' && s[i-1] != ' ' {
			out = append(out, s[start:i])
			start = i
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// block is one drawable block of the history: a header, a wrapped
// message line, a notice, a transfer.
type block struct {
	h    int
	draw func(dst *image.RGBA, x, y int)
}

func (r *Renderer) conversation(dst *image.RGBA, m *Model, now time.Time) bool {
	b := dst.Bounds()
	peer := m.Peer
	conv := m.Conv(peer)
	c := m.contact(peer)
	st := msnp.StatusOffline
	if c != nil {
		st = c.Status
	}
	r.titleBar(dst, r.Text("win.conv-title", m.NameOf(peer)))
	y0 := b.Min.Y + titleH
	fill(dst, image.Rect(b.Min.X, y0, b.Max.X, y0+28), colHeader)
	fill(dst, image.Rect(b.Min.X, y0+27, b.Max.X, y0+28), colLine)
	r.icon(dst, b.Min.X+pad, y0+6, st)
	text(dst, r.Fonts.Regular, b.Min.X+pad+22, y0+18, r.Text("win.to", m.NameOf(peer), peer), colText, b.Dx()-2*pad-22)

	top := y0 + 28
	animated := false
	call := m.CallWith(peer)
	if call != nil {
		animated = r.callBar(dst, m, call, image.Rect(b.Min.X, top, b.Max.X, top+callH), now)
		top += callH
	}
	area := image.Rect(b.Min.X, top, b.Max.X, b.Max.Y-hintH-composH-18)
	width := area.Dx() - 2*pad - 12
	var blocks []block
	for _, l := range conv.Lines {
		l := l
		if l.Kind != LineText {
			blocks = append(blocks, block{h: 18, draw: func(d *image.RGBA, x, y int) {
				s, c := r.callLine(m, peer, l)
				text(d, r.Fonts.Regular, x, y+13, s, c, width)
			}})
			continue
		}
		if l.Notice {
			blocks = append(blocks, block{h: 18, draw: func(d *image.RGBA, x, y int) {
				text(d, r.Fonts.Regular, x, y+13, r.Text("win.undelivered", l.Text), colNotice, width)
			}})
			continue
		}
		blocks = append(blocks, block{h: 18, draw: func(d *image.RGBA, x, y int) {
			text(d, r.Fonts.Regular, x, y+13, r.Text("win.says", l.Name), colDim, width)
		}})
		for _, ln := range r.wrap(l.Text, width) {
			ln := ln
			h := 17
			for _, it := range ln {
				if it.emo {
					h = emoSide + 3
				}
			}
			blocks = append(blocks, block{h: h, draw: func(d *image.RGBA, x, y int) {
				x += 12
				for _, it := range ln {
					if it.emo {
						a := r.Pics.Emoticons[it.s]
						img := a.At(now.Sub(r.Epoch))
						draw.Draw(d, image.Rect(x+1, y+1, x+1+emoSide, y+1+emoSide), img, img.Bounds().Min, draw.Over)
						if len(a.Frames) > 1 {
							animated = true
						}
					} else {
						text(d, r.Fonts.Regular, x, y+h-5, it.s, colText, 0)
					}
					x += it.w
				}
			}})
		}
	}
	for _, t := range m.Transfers {
		if !strings.EqualFold(t.Peer, peer) {
			continue
		}
		t := t
		blocks = append(blocks, block{h: 40, draw: func(d *image.RGBA, x, y int) { r.transfer(d, m, t, x, y+4, width) }})
	}
	if len(conv.Lines) == 0 && len(blocks) == 0 {
		text(dst, r.Fonts.Regular, area.Min.X+pad, area.Min.Y+22, r.Text("win.empty-conv"), colDim, width)
	}
	// Bottom-aligned, newest last; Scroll moves back by blocks.
	clip := dst.SubImage(area).(*image.RGBA)
	end := len(blocks) - min(m.Scroll, max(0, len(blocks)-1))
	y := area.Max.Y - 4
	for i := end - 1; i >= 0 && y > area.Min.Y; i-- {
		y -= blocks[i].h
		blocks[i].draw(clip, area.Min.X+pad, y)
	}
	// Typing indicator, compose box, hint.
	ty := b.Max.Y - hintH - composH - 18
	if conv.Typing(now) {
		text(dst, r.Fonts.Regular, b.Min.X+pad, ty+13, r.Text("win.typing", m.NameOf(peer)), colDim, b.Dx()-2*pad)
		animated = true
	}
	box := image.Rect(b.Min.X+pad, b.Max.Y-hintH-composH, b.Max.X-pad, b.Max.Y-hintH-6)
	fill(dst, box, colSelLine)
	fill(dst, box.Inset(1), colBG)
	in := string(m.Input)
	maxW := box.Dx() - 12
	for font.MeasureString(r.Fonts.Regular, in+"|").Ceil() > maxW && len(in) > 0 {
		_, n := utf8.DecodeRuneInString(in)
		in = in[n:]
	}
	w := text(dst, r.Fonts.Regular, box.Min.X+6, box.Min.Y+18, in, colText, 0)
	fill(dst, image.Rect(box.Min.X+7+w, box.Min.Y+6, box.Min.X+8+w, box.Min.Y+22), colText)
	switch {
	case call == nil && r.Voice:
		r.hint(dst, r.Text("win.hint-conv-voice"))
	case call == nil:
		r.hint(dst, r.Text("win.hint-conv"))
	case call.Phase == CallIncoming:
		r.hint(dst, r.Text("win.hint-call-incoming"))
	case call.Phase == CallConnected:
		r.hint(dst, r.Text("win.hint-call"))
	default:
		r.hint(dst, r.Text("win.hint-call-ringing"))
	}
	return animated
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func (r *Renderer) transfer(dst *image.RGBA, m *Model, t *Transfer, x, y, width int) {
	var s string
	c := colText
	switch t.State {
	case "offer":
		s = r.Text("win.ft-offer", m.NameOf(t.Peer), t.File, humanSize(t.Size))
	case "active":
		s = r.Text("win.ft-progress", t.File, humanSize(t.Bytes), humanSize(t.Size))
	case "done":
		s = r.Text("win.ft-done", t.File, humanSize(t.Size))
	case "failed":
		s, c = r.Text("win.ft-failed", t.File, t.Error), colNotice
	default:
		s, c = r.Text("win.ft-cancelled", t.File), colDim
	}
	text(dst, r.Fonts.Regular, x, y+12, s, c, width)
	bar := image.Rect(x, y+18, x+min(width, 240), y+28)
	fill(dst, bar, colLine)
	fill(dst, bar.Inset(1), colBG)
	if t.Size > 0 {
		in := bar.Inset(2)
		w := int(int64(in.Dx()) * min(t.Bytes, t.Size) / t.Size)
		fill(dst, image.Rect(in.Min.X, in.Min.Y, in.Min.X+w, in.Max.Y), colBar)
	}
}

// statusMenuRect is where the status menu is drawn on a screen of bounds b.
func statusMenuRect(b image.Rectangle) image.Rectangle {
	w, h := 220, 28+len(SettableStatuses)*rowH+8
	x0, y0 := b.Min.X+pad, b.Min.Y+titleH+headerH-4
	return image.Rect(x0, y0, x0+w, y0+h)
}

// MenuAt returns the status menu entry (an index into SettableStatuses)
// drawn at p on a screen of bounds b, for the pointer.
func MenuAt(m *Model, b image.Rectangle, p image.Point) (int, bool) {
	rect := statusMenuRect(b)
	if !m.StatusMenu || !p.In(rect) {
		return 0, false
	}
	i := (p.Y - rect.Min.Y - 26) / rowH
	if p.Y < rect.Min.Y+26 || i >= len(SettableStatuses) {
		return 0, false
	}
	return i, true
}

func (r *Renderer) statusMenu(dst *image.RGBA, m *Model) {
	b := dst.Bounds()
	rect := statusMenuRect(b)
	w := rect.Dx()
	x0, y0 := rect.Min.X, rect.Min.Y
	fill(dst, rect, colLine)
	fill(dst, rect.Inset(1), colMenu)
	text(dst, r.Fonts.Bold, x0+pad, y0+18, r.Text("win.status-menu"), colGroup, w-2*pad)
	for i, s := range SettableStatuses {
		y := y0 + 26 + i*rowH
		if i == m.MenuSel {
			fill(dst, image.Rect(x0+2, y, x0+w-2, y+rowH), colSel)
		}
		r.icon(dst, x0+pad, y+2, s.Status)
		text(dst, r.Fonts.Regular, x0+pad+22, y+14, r.statusText(s.Status), colText, w-pad-30)
	}
	r.hint(dst, r.Text("win.hint-status"))
}

// contactArea is the contact list's rectangle on a screen of size b.
func contactArea(b image.Rectangle) image.Rectangle {
	return image.Rect(b.Min.X, b.Min.Y+titleH+headerH, b.Max.X, b.Max.Y-hintH)
}

// ContactAt returns the contact row (an index into m.Rows) drawn at p on
// a screen of bounds b, for the pointer.
func (r *Renderer) ContactAt(m *Model, b image.Rectangle, p image.Point) (int, bool) {
	area := contactArea(b)
	if m.Screen != ScreenContacts || m.StatusMenu || !p.In(area) {
		return 0, false
	}
	shift, ys, _ := r.contactLayout(m, area)
	for i, y := range ys {
		if p.Y >= y-shift && p.Y < y-shift+rowH {
			return i, true
		}
	}
	return 0, false
}

// startPage draws the start page pane into area, or one line saying why
// there is none.
func (r *Renderer) startPage(dst *image.RGBA, area image.Rectangle) {
	line := func(s string, c color.RGBA) {
		text(dst, r.Fonts.Regular, area.Min.X+pad, area.Min.Y+18, s, c, area.Dx()-2*pad)
	}
	switch {
	case !r.Start.InDesign():
		line(r.Text("win.no-browser"), colDim)
		return
	case r.Start.URL == "":
		line(r.Text("win.start-no-url"), colDim)
		return
	}
	st := r.Start.draw(dst, area)
	if st.busy && !st.drawn {
		line(r.Text("win.start-loading", r.Start.URL), colDim)
		return
	}
	if st.err != nil {
		bar := image.Rect(area.Min.X, area.Min.Y, area.Max.X, area.Min.Y+hintH+6)
		fill(dst, bar, colHint)
		fill(dst, image.Rect(bar.Min.X, bar.Max.Y-1, bar.Max.X, bar.Max.Y), colLine)
		text(dst, r.Fonts.Regular, bar.Min.X+pad, bar.Min.Y+17, r.Text("win.start-failed", st.err.Error()), colNotice, bar.Dx()-2*pad)
	}
}

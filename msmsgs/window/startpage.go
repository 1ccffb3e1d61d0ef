package window

import (
	"context"
	"image"
	"net/http"
	"sync"

	"golang.org/x/image/font"
)

// StartPage is the start page pane (ScreenStartPage): a browser control
// host (feature/browserhost) when the design holds SYSGEN_SHDOCVW
// (startpage_shdocvw.go), nothing otherwise (startpage_none.go; the
// window then says the browser host is not in the design).
//
// The host is not safe for concurrent use: Open and Key hold the pane's
// lock while they fetch, and Draw only draws when it gets the lock at
// once, so a slow page never stalls the window's drawing.
type StartPage struct {
	URL string

	mu      sync.Mutex
	mk      func() (pageHost, error) // makes host on the first Open
	made    bool
	host    pageHost // nil without SYSGEN_SHDOCVW
	setup   error    // why the host could not be made
	err     error    // the last Open or Key's failure
	opened  bool
	loading bool
}

// pageHost is what the window needs of the browser control host.
type pageHost interface {
	Open(ctx context.Context, url string) error
	Key(ctx context.Context, k Key, viewH int) (handled bool, err error)
	Draw(dst *image.RGBA, r image.Rectangle)
	// Click follows the link drawn at p (relative to the pane's top
	// left), reporting whether there was one.
	Click(ctx context.Context, p image.Point) (bool, error)
}

// NewStartPage returns the pane showing url, width pixels wide, fetched
// with c (nil: WinInet without a proxy); fallbackFont is the font file
// for CJK text ("" for none) and lastResort a face for the runes neither
// the Go fonts nor that file have (the window's glyph atlas; nil: none).
func NewStartPage(c *http.Client, url string, width int, fallbackFont string, lastResort font.Face) *StartPage {
	// The host (its fonts: the Go fonts parsed, a CJK font file read) is
	// made on the first Open, on the pane's goroutine, so it costs the
	// window's first frame nothing.
	return &StartPage{URL: url, mk: func() (pageHost, error) { return newPageHost(c, width, fallbackFont, lastResort) }}
}

// InDesign reports whether the design holds the browser control host.
func (p *StartPage) InDesign() bool { return p != nil && shdocvwInDesign }

// make makes the host once (lock held).
func (p *StartPage) make() {
	if !p.made && p.mk != nil {
		p.made = true
		p.host, p.setup = p.mk()
	}
}

// Open (re)opens the start page.
func (p *StartPage) Open(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.make()
	if p.host == nil || p.URL == "" {
		return p.setup
	}
	p.loading = true
	err := p.host.Open(ctx, p.URL)
	p.loading, p.err, p.opened = false, err, true
	return err
}

// Key hands a key of the start page screen to the host; viewH is the
// pane's height. It reports whether the host takes that key.
func (p *StartPage) Key(ctx context.Context, k Key, viewH int) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.host == nil || !p.opened {
		return false, nil
	}
	p.loading = true
	ok, err := p.host.Key(ctx, k, viewH)
	p.loading = false
	if ok {
		p.err = err
	}
	return ok, err
}

// Click is a pointer click at p, relative to the pane's top left: a
// click on a link follows it. It reports whether p was on a link.
func (p *StartPage) Click(ctx context.Context, at image.Point) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.host == nil || !p.opened {
		return false, nil
	}
	p.loading = true
	ok, err := p.host.Click(ctx, at)
	p.loading = false
	if ok {
		p.err = err
	}
	return ok, err
}

// paneState is what the renderer shows of the pane.
type paneState struct {
	busy  bool  // a page is being fetched
	err   error // the last failure (setup, Open or a followed link)
	drawn bool  // the host drew a page
}

// draw draws the page into r when the pane is not busy.
func (p *StartPage) draw(dst *image.RGBA, r image.Rectangle) paneState {
	if !p.mu.TryLock() {
		return paneState{busy: true}
	}
	defer p.mu.Unlock()
	st := paneState{busy: p.loading, err: p.err}
	if p.setup != nil {
		st.err = p.setup
	}
	if p.host != nil && p.opened {
		p.host.Draw(dst, r)
		st.drawn = true
	}
	return st
}

// paneKey reports whether the start page screen hands k to the pane.
func paneKey(k Key) bool {
	switch k.Code {
	case KeyTab, KeyShiftTab, KeyEnter, KeyUp, KeyDown, KeyBackspace:
		return true
	}
	return false
}

// startPageArea is the pane's rectangle on a screen of bounds b.
func startPageArea(b image.Rectangle) image.Rectangle {
	return image.Rect(b.Min.X, b.Min.Y+titleH, b.Max.X, b.Max.Y-hintH)
}

// startPageFont is the CJK font the start page uses when the design sets
// no window.font: Debian's fonts-ipafont-gothic (absent: Latin only).
const startPageFont = "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"

package browserhost

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/browserhost/fonts"
	"github.com/oemkit/messenger/feature/imaging"
	"github.com/oemkit/messenger/feature/wininet"
)

// Host is one browser pane: the page shown, the focused link, the scroll
// position and the pages to go back to. It is not safe for concurrent use:
// a window that opens pages off its drawing goroutine must hold its own
// lock around Open, HandleKey and Draw.
type Host struct {
	client *http.Client
	lim    Limits
	fonts  *fonts.Set
	width  int

	// URL is the page shown, Page its layout (nil before the first Open).
	URL  string
	Page *Page
	// Focus is the focused link (an index into Page.Doc.Links), -1 none.
	Focus int
	// Scroll is how far the page is scrolled down, in pixels.
	Scroll int
	// Timing is the last Open's.
	Timing Timing
	// Pictures say, per Page.Doc.Images entry, what was decoded.
	Pictures []PictureInfo

	history []string // pages before URL, the last one first back
}

// MaxHistory bounds the pages Back can return to.
const MaxHistory = 32

// Timing is where the time of one Open went.
type Timing struct {
	// Fetch is the page's download through WinInet.
	Fetch time.Duration
	// Parse is the HTML parse.
	Parse time.Duration
	// Images is the pictures' downloads and decoding.
	Images time.Duration
	// Layout is the line breaking and placement.
	Layout time.Duration
}

// Total is the time from request to a page ready to Draw.
func (t Timing) Total() time.Duration { return t.Fetch + t.Parse + t.Images + t.Layout }

// PictureInfo is what became of one <img> of the page.
type PictureInfo struct {
	URL    string `json:"url"`
	Format string `json:"format,omitempty"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	Frames int    `json:"frames,omitempty"`
	// Err says why the picture is not shown (its alt text is instead).
	Err string `json:"error,omitempty"`
}

// New returns a pane width pixels wide that fetches through the device's
// WinInet client made from cfg (its proxy and certificate store).
func New(cfg wininet.Config, lim Limits, fs *fonts.Set, width int) (*Host, error) {
	c, err := wininet.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return NewWithClient(c, lim, fs, width), nil
}

// NewWithClient is New with an HTTP client already made (by
// wininet.NewClient on the device).
func NewWithClient(c *http.Client, lim Limits, fs *fonts.Set, width int) *Host {
	return &Host{client: c, lim: lim.withDefaults(), fonts: fs, width: width, Focus: -1}
}

// ErrNotHTML is wrapped when a page is not text/html.
var ErrNotHTML = errors.New("browserhost: not an HTML page")

// Open fetches, parses and lays out the page at raw (http or https),
// within the Limits: the whole Open takes at most MaxTime. On success the
// page shown before goes onto the Back history. On error the pane keeps
// the page it showed.
func (h *Host) Open(ctx context.Context, raw string) error {
	prev := h.URL
	if err := h.open(ctx, raw); err != nil {
		return err
	}
	if prev != "" {
		h.history = append(h.history, prev)
		if len(h.history) > MaxHistory {
			h.history = h.history[1:]
		}
	}
	return nil
}

// Back shows the page shown before the current one again (fetched anew);
// it reports false when there is none.
func (h *Host) Back(ctx context.Context) (bool, error) {
	if len(h.history) == 0 {
		return false, nil
	}
	prev := h.history[len(h.history)-1]
	if err := h.open(ctx, prev); err != nil {
		return true, err
	}
	h.history = h.history[:len(h.history)-1]
	return true, nil
}

func (h *Host) open(ctx context.Context, raw string) error {
	ctx, cancel := context.WithTimeout(ctx, h.lim.MaxTime)
	defer cancel()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("browserhost: %q is no http:// or https:// address", raw)
	}
	var tm Timing
	t0 := time.Now()
	body, ctype, err := h.get(ctx, u.String(), h.lim.MaxBytes)
	if err != nil {
		return err
	}
	if ct := strings.ToLower(ctype); ct != "" && !strings.HasPrefix(ct, "text/html") {
		return fmt.Errorf("%w: %s is %s", ErrNotHTML, u.Redacted(), ctype)
	}
	t1 := time.Now()
	tm.Fetch = t1.Sub(t0)
	doc := Parse(body, u, h.lim)
	t2 := time.Now()
	tm.Parse = t2.Sub(t1)
	pics, infos := h.images(ctx, doc)
	t3 := time.Now()
	tm.Images = t3.Sub(t2)
	why := make([]string, len(infos))
	for i, in := range infos {
		why[i] = in.Err
	}
	pg := Layout(doc, h.width, h.fonts, pics, why)
	tm.Layout = time.Since(t3)
	h.Page, h.Pictures, h.Timing = pg, infos, tm
	h.URL, h.Focus, h.Scroll = u.String(), -1, 0
	if len(doc.Links) > 0 {
		h.Focus = 0
	}
	return nil
}

// get reads at most limit bytes of raw's body; a longer body is cut (the
// parser reports the cut from the length it sees).
func (h *Host) get(ctx context.Context, raw string, limit int) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, "", fmt.Errorf("browserhost: %w", err)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, "", h.late(raw)
		}
		return nil, "", fmt.Errorf("browserhost: %w", wininet.Classify(err))
	}
	defer resp.Body.Close()
	if err := wininet.CheckStatus(resp); err != nil {
		return nil, "", fmt.Errorf("browserhost: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, "", h.late(raw)
		}
		return nil, "", fmt.Errorf("browserhost: read %s: %w", raw, wininet.Classify(err))
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// ErrTooSlow is wrapped when a page and its pictures take longer than
// Limits.MaxTime.
var ErrTooSlow = errors.New("browserhost: page too slow")

func (h *Host) late(raw string) error {
	return fmt.Errorf("%w: %s not loaded within the %v limit", ErrTooSlow, raw, h.lim.MaxTime)
}

// images fetches and decodes the page's images (at most MaxImages, each
// at most MaxImageBytes) through the imaging service; each info says
// what was decoded or why the picture is not shown.
func (h *Host) images(ctx context.Context, doc *Doc) ([]image.Image, []PictureInfo) {
	pics := make([]image.Image, len(doc.Images))
	infos := make([]PictureInfo, len(doc.Images))
	for i, ref := range doc.Images {
		infos[i].URL = ref.URL
		if i >= h.lim.MaxImages {
			infos[i].Err = fmt.Sprintf("more than %d images", h.lim.MaxImages)
			continue
		}
		b, _, err := h.get(ctx, ref.URL, h.lim.MaxImageBytes)
		if err != nil {
			infos[i].Err = err.Error()
			continue
		}
		p, err := imaging.Decode(ctx, b, imaging.Bounds{MaxBytes: h.lim.MaxImageBytes})
		if err != nil {
			infos[i].Err = err.Error()
			continue
		}
		sz := p.Frames[0].Bounds().Size()
		infos[i].Format, infos[i].Width, infos[i].Height, infos[i].Frames = p.Format, sz.X, sz.Y, len(p.Frames)
		pics[i] = p.Frames[0]
	}
	if n := len(doc.Images) - h.lim.MaxImages; n > 0 {
		doc.Cuts = append(doc.Cuts, fmt.Sprintf("%d images beyond the limit of %d not fetched", n, h.lim.MaxImages))
	}
	return pics, infos
}

// Key is a key the pane handles.
type Key int

const (
	KeyTab Key = iota
	KeyShiftTab
	KeyEnter
	KeyUp
	KeyDown
	KeyBack
)

// HandleKey moves the link focus (Tab, Shift-Tab), follows the focused
// link (Enter), scrolls (Up, Down) or goes back (Back) to the previous
// page. viewH is the pane's height, for scrolling the focus into view.
// An error (the link's page could not be shown) leaves the page shown.
func (h *Host) HandleKey(ctx context.Context, k Key, viewH int) error {
	if h.Page == nil {
		return nil
	}
	n := len(h.Page.Doc.Links)
	switch k {
	case KeyTab, KeyShiftTab:
		if n == 0 {
			return nil
		}
		if k == KeyTab {
			h.Focus = (h.Focus + 1) % n
		} else {
			h.Focus = (h.Focus - 1 + n) % n
		}
		if bs := h.Page.LinkBoxes[h.Focus]; len(bs) > 0 {
			if y := bs[0].Min.Y; y < h.Scroll || y > h.Scroll+viewH-20 {
				h.Scroll = max(0, y-viewH/3)
			}
		}
	case KeyEnter:
		if h.Focus >= 0 && h.Focus < n {
			return h.Open(ctx, h.Page.Doc.Links[h.Focus])
		}
	case KeyBack:
		_, err := h.Back(ctx)
		return err
	case KeyUp:
		h.Scroll = max(0, h.Scroll-40)
	case KeyDown:
		h.Scroll = max(0, min(h.Scroll+40, h.Page.Height-viewH))
	}
	return nil
}

// LinkAt returns the link (an index into Page.Doc.Links) whose text is
// drawn at p, a point of the pane relative to its top left corner, with
// the page scrolled as it is; -1 if none.
func (h *Host) LinkAt(p image.Point) int {
	if h.Page == nil {
		return -1
	}
	at := p.Add(image.Pt(0, h.Scroll))
	for i, bs := range h.Page.LinkBoxes {
		for _, b := range bs {
			if at.In(b.Inset(-2)) {
				return i
			}
		}
	}
	return -1
}

// Click is a pointer click at p (relative to the pane's top left): on a
// link it focuses the link and follows it, as Tab to it and Enter would.
// It reports whether p was on a link; an error (the link's page could
// not be shown) leaves the page shown.
func (h *Host) Click(ctx context.Context, p image.Point) (bool, error) {
	i := h.LinkAt(p)
	if i < 0 {
		return false, nil
	}
	h.Focus = i
	return true, h.Open(ctx, h.Page.Doc.Links[i])
}

// Draw paints the pane into r of dst (white before the first Open).
func (h *Host) Draw(dst *image.RGBA, r image.Rectangle) {
	if h.Page == nil {
		draw.Draw(dst, r.Intersect(dst.Bounds()), image.White, image.Point{}, draw.Src)
		return
	}
	h.Page.Draw(dst, r, h.Scroll, h.Focus)
}

// Render draws the page shown, unscrolled and without focus, into a new
// picture of the page's full height (at most maxH pixels; 0: no limit),
// for screenshots and tests.
func (h *Host) Render(maxH int) *image.RGBA {
	if h.Page == nil {
		return image.NewRGBA(image.Rect(0, 0, h.width, 1))
	}
	return h.Page.Render(maxH)
}

package browserhost

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/browserhost/fonts"
	"github.com/oemkit/messenger/feature/imaging"
	"github.com/oemkit/messenger/feature/wininet"
)

// Host is one browser pane: the page shown, the focused link and the
// scroll position. It is not safe for concurrent use.
type Host struct {
	client *http.Client
	lim    Limits
	fonts  *fonts.Set
	width  int

	URL    string
	Page   *Page
	Focus  int // link index, -1 none
	Scroll int
	// Timing of the last Open.
	Fetch, Render time.Duration
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

// Open fetches, parses and lays out the page at raw.
func (h *Host) Open(ctx context.Context, raw string) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, h.lim.MaxTime)
	defer cancel()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("browserhost: %q is no http or https address", raw)
	}
	body, ctype, err := h.get(ctx, u.String(), h.lim.MaxBytes)
	if err != nil {
		return err
	}
	if ct := strings.ToLower(ctype); ct != "" && !strings.HasPrefix(ct, "text/html") {
		return fmt.Errorf("%w: %s is %s", ErrNotHTML, u.Redacted(), ctype)
	}
	doc := Parse(body, u, h.lim)
	pics, why := h.images(ctx, doc)
	h.Fetch = time.Since(start)
	r0 := time.Now()
	h.Page = Layout(doc, h.width, h.fonts, pics, why)
	h.Render = time.Since(r0)
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
		return nil, "", fmt.Errorf("browserhost: %w", wininet.Classify(err))
	}
	defer resp.Body.Close()
	if err := wininet.CheckStatus(resp); err != nil {
		return nil, "", fmt.Errorf("browserhost: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, "", fmt.Errorf("browserhost: read %s: %w", raw, wininet.Classify(err))
	}
	return b, resp.Header.Get("Content-Type"), nil
}

// images fetches and decodes the page's images (at most MaxImages); why
// says for each picture not shown what went wrong.
func (h *Host) images(ctx context.Context, doc *Doc) ([]image.Image, []string) {
	pics := make([]image.Image, len(doc.Images))
	why := make([]string, len(doc.Images))
	for i, ref := range doc.Images {
		if i >= h.lim.MaxImages {
			why[i] = fmt.Sprintf("more than %d images", h.lim.MaxImages)
			continue
		}
		b, _, err := h.get(ctx, ref.URL, h.lim.MaxImageBytes)
		if err != nil {
			why[i] = err.Error()
			continue
		}
		p, err := imaging.Decode(ctx, b, imaging.Bounds{MaxBytes: h.lim.MaxImageBytes})
		if err != nil {
			why[i] = err.Error()
			continue
		}
		pics[i] = p.Frames[0]
	}
	if n := len(doc.Images) - h.lim.MaxImages; n > 0 {
		doc.Cuts = append(doc.Cuts, fmt.Sprintf("%d images beyond the limit of %d not fetched", n, h.lim.MaxImages))
	}
	return pics, why
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
	case KeyUp:
		h.Scroll = max(0, h.Scroll-40)
	case KeyDown:
		h.Scroll = max(0, min(h.Scroll+40, h.Page.Height-viewH))
	}
	return nil
}

// Draw paints the pane into r of dst.
func (h *Host) Draw(dst *image.RGBA, r image.Rectangle) {
	if h.Page == nil {
		return
	}
	h.Page.Draw(dst, r, h.Scroll, h.Focus)
}

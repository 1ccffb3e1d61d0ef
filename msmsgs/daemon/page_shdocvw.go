//go:build sysgen_shdocvw

package daemon

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/oemkit/messenger/feature/browserhost"
	"github.com/oemkit/messenger/feature/browserhost/fonts"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
)

// PageReport is the result of ctl page: what the browser control host
// made of a page, drawn into a picture of the page's full height.
type PageReport struct {
	URL    string   `json:"url"`
	Title  string   `json:"title"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Blocks int      `json:"blocks"`
	Links  []string `json:"links"`
	// Pictures say what became of each <img>.
	Pictures []browserhost.PictureInfo `json:"pictures"`
	// Cuts say what of the page the limits cut.
	Cuts []string `json:"cuts,omitempty"`
	// Text is the page's text (at most 4 KB).
	Text string `json:"text"`
	// Ink counts the drawn pixels that are not white; SHA256 hashes the
	// drawn RGBA pixels (the same page, width and fonts draw the same).
	Ink    int    `json:"ink"`
	SHA256 string `json:"sha256"`
	// CJKFont says whether a fallback font for CJK text was found.
	CJKFont bool `json:"cjk_font"`
	// Times in milliseconds: download, parse, pictures, layout, drawing.
	FetchMS  float64 `json:"fetch_ms"`
	ParseMS  float64 `json:"parse_ms"`
	ImagesMS float64 `json:"images_ms"`
	LayoutMS float64 `json:"layout_ms"`
	DrawMS   float64 `json:"draw_ms"`
}

// maxPageHeight bounds the picture page draws into (4 bytes a pixel).
const maxPageHeight = 8192

// addPage registers page [-width PX] URL: open the page in a browser
// control host pane fetching through WinInet and draw it.
func addPage(d *Daemon, s *config.Settings) error {
	var (
		once sync.Once
		// busy serializes pages: they share the font set's faces.
		busy sync.Mutex
		hc   *http.Client
		fs   *fonts.Set
		herr error
		cjk  bool
	)
	return d.Register("page", Command{Spec: pageSpec, Run: func(ctx context.Context, args []string, _ func(client.Event) error) (any, error) {
		f := flag.NewFlagSet("page", flag.ContinueOnError)
		f.SetOutput(io.Discard)
		width := f.Int("width", 480, "pane width in pixels")
		if err := f.Parse(args); err != nil || f.NArg() != 1 || *width < 64 || *width > 4096 {
			return nil, errors.New(d.lang.Text("err.page-usage", pageSpec.Usage))
		}
		once.Do(func() {
			if hc, herr = viewerClient(s); herr != nil {
				return
			}
			var ferr error
			fs, ferr = fonts.New(fonts.DefaultFallback)
			if fs == nil {
				herr = ferr
			}
			cjk = ferr == nil
		})
		if herr != nil {
			return nil, herr
		}
		busy.Lock()
		defer busy.Unlock()
		h := browserhost.NewWithClient(hc, browserhost.Limits{}, fs, *width)
		if err := h.Open(ctx, f.Arg(0)); err != nil {
			return nil, err
		}
		t0 := time.Now()
		img := h.Render(maxPageHeight)
		drawT := time.Since(t0)
		ink := 0
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i] != 0xff || img.Pix[i+1] != 0xff || img.Pix[i+2] != 0xff {
				ink++
			}
		}
		sum := sha256.Sum256(img.Pix)
		doc := h.Page.Doc
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		r := PageReport{URL: h.URL, Title: doc.Title, Width: img.Rect.Dx(), Height: img.Rect.Dy(), Blocks: len(doc.Blocks),
			Links: doc.Links, Pictures: h.Pictures, Cuts: doc.Cuts, Text: doc.Text(4096), Ink: ink,
			SHA256: hex.EncodeToString(sum[:]), CJKFont: cjk,
			FetchMS: ms(h.Timing.Fetch), ParseMS: ms(h.Timing.Parse), ImagesMS: ms(h.Timing.Images),
			LayoutMS: ms(h.Timing.Layout), DrawMS: ms(drawT)}
		if r.Links == nil {
			r.Links = []string{}
		}
		return r, nil
	}})
}

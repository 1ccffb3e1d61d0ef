//go:build sysgen_shdocvw

package window

import (
	"context"
	"errors"
	"image"
	"net/http"

	"golang.org/x/image/font"

	"github.com/oemkit/messenger/feature/browserhost"
	"github.com/oemkit/messenger/feature/browserhost/fonts"
	"github.com/oemkit/messenger/feature/wininet"
)

const shdocvwInDesign = true

// browserPane is the start page through the browser control host.
type browserPane struct{ h *browserhost.Host }

// newPageHost makes the browser control host for the start page.
// Page text the Go fonts and the fallback font lack comes from
// lastResort (the window's atlas: the ja-JP strings' glyphs at the
// window's text size), so a device without a CJK font file still draws
// the Japanese the window knows; other runes are drawn as boxes.
func newPageHost(c *http.Client, width int, fallbackFont string, lastResort font.Face) (pageHost, error) {
	fs, err := fonts.New(fallbackFont)
	if fs == nil {
		return nil, err
	}
	if err != nil && !errors.Is(err, fonts.ErrNoFallback) {
		return nil, err
	}
	if lastResort != nil {
		fs.SetLastResort(lastResort)
	}
	if c == nil {
		h, err := browserhost.New(wininet.Config{}, browserhost.Limits{}, fs, width)
		if err != nil {
			return nil, err
		}
		return browserPane{h}, nil
	}
	return browserPane{browserhost.NewWithClient(c, browserhost.Limits{}, fs, width)}, nil
}

func (p browserPane) Open(ctx context.Context, url string) error { return p.h.Open(ctx, url) }

func (p browserPane) Key(ctx context.Context, k Key, viewH int) (bool, error) {
	var bk browserhost.Key
	switch k.Code {
	case KeyTab:
		bk = browserhost.KeyTab
	case KeyShiftTab:
		bk = browserhost.KeyShiftTab
	case KeyEnter:
		bk = browserhost.KeyEnter
	case KeyUp:
		bk = browserhost.KeyUp
	case KeyDown:
		bk = browserhost.KeyDown
	case KeyBackspace:
		bk = browserhost.KeyBack
	default:
		return false, nil
	}
	return true, p.h.HandleKey(ctx, bk, viewH)
}

func (p browserPane) Click(ctx context.Context, at image.Point) (bool, error) {
	return p.h.Click(ctx, at)
}

func (p browserPane) Draw(dst *image.RGBA, r image.Rectangle) { p.h.Draw(dst, r) }

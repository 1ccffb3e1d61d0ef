package daemon

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// The picture and page control commands show what the device's picture
// decoders (SYSGEN_IMAGING and its GIF and PNG decoder items) and its
// browser control host (SYSGEN_SHDOCVW) make of a picture or a page. Each
// comes in two builds chosen by the design's build tags: picture_imaging.go
// or picture_none.go, page_shdocvw.go or page_none.go; the decoders
// themselves are linked by decoder_gif.go and decoder_png.go only when the
// design holds their items.

// addViewers registers the picture and page commands.
func addViewers(d *Daemon, s *config.Settings) error {
	if err := addPicture(d, s); err != nil {
		return err
	}
	return addPage(d, s)
}

// viewerClient is the HTTP client of picture and page: WinInet with the
// device's proxy and certificate store, as Passport uses.
func viewerClient(s *config.Settings) (*http.Client, error) {
	store, err := certStore(s.CertDir, s.CAFile)
	if err != nil {
		return nil, err
	}
	return wininet.NewClient(wininet.Config{Proxy: s.Proxy, Certs: store})
}

// fetchSource reads an http(s) URL through c, or an absolute file path,
// refusing more than limit bytes; its own errors are in the daemon's
// language.
func (d *Daemon) fetchSource(ctx context.Context, c *http.Client, src string, limit int) ([]byte, error) {
	var r io.Reader
	switch {
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, wininet.Classify(err)
		}
		defer resp.Body.Close()
		if err := wininet.CheckStatus(resp); err != nil {
			return nil, err
		}
		r = resp.Body
	case filepath.IsAbs(src):
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	default:
		return nil, errors.New(d.lang.Text("err.viewer-source", src))
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, errors.New(d.lang.Text("err.viewer-too-big", src, limit))
	}
	return b, nil
}

var (
	pictureSpec = ctlproto.Spec{Usage: "picture FILE|URL", Min: 1, Max: 1}
	pageSpec    = ctlproto.Spec{Usage: "page [-width PX] URL", Min: 1, Max: 3}
)

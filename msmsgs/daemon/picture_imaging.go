//go:build sysgen_imaging

package daemon

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/oemkit/messenger/feature/imaging"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
)

// PictureReport is the result of ctl picture: what the imaging service
// made of a picture.
type PictureReport struct {
	Source string `json:"source"`
	Bytes  int    `json:"bytes"`
	Format string `json:"format"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Frames int    `json:"frames"`
	// DelaysMS are an animation's frame delays in milliseconds.
	DelaysMS  []int64 `json:"delays_ms,omitempty"`
	LoopCount int     `json:"loop_count,omitempty"`
	// DecodeMS is the decoding time, in milliseconds.
	DecodeMS float64 `json:"decode_ms"`
	// Decoders are the formats this device decodes.
	Decoders []string `json:"decoders"`
}

// addPicture registers picture FILE|URL: fetch (through WinInet) or read
// the picture and decode it within the imaging service's default bounds.
func addPicture(d *Daemon, s *config.Settings) error {
	var (
		once sync.Once
		hc   *http.Client
		herr error
	)
	return d.Register("picture", Command{Spec: pictureSpec, Run: func(ctx context.Context, args []string, _ func(client.Event) error) (any, error) {
		once.Do(func() { hc, herr = viewerClient(s) })
		if herr != nil {
			return nil, herr
		}
		b := imaging.DefaultBounds
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		data, err := d.fetchSource(ctx, hc, args[0], b.MaxBytes)
		if err != nil {
			return nil, fmt.Errorf("picture: %w", err)
		}
		t0 := time.Now()
		p, err := imaging.Decode(ctx, data, b)
		if err != nil {
			return nil, fmt.Errorf("picture %s: %w", args[0], err)
		}
		sz := p.Frames[0].Bounds().Size()
		r := PictureReport{Source: args[0], Bytes: len(data), Format: p.Format, Width: sz.X, Height: sz.Y,
			Frames: len(p.Frames), LoopCount: p.LoopCount, DecodeMS: float64(time.Since(t0).Microseconds()) / 1000,
			Decoders: imaging.Formats()}
		for _, dl := range p.Delays {
			r.DelaysMS = append(r.DelaysMS, dl.Milliseconds())
		}
		return r, nil
	}})
}

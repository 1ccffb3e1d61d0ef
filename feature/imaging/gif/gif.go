// Package gif is the GIF decoder of the imaging service (the CE item
// SYSGEN_IMAGING_GIF_DECODE), backed by the standard library's image/gif.
// Importing it registers the decoder; the image links it only when the
// design holds the item (build tag sysgen_imaging_gif_decode in the
// importing command).
package gif

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	stdgif "image/gif"
	"time"

	"github.com/oemkit/messenger/feature/imaging"
)

func init() {
	imaging.Register(imaging.Decoder{
		Name:   "gif",
		Magic:  func(b []byte) bool { return imaging.Sniff(b) == "gif" },
		Config: config,
		Decode: decode,
	})
}

func config(data []byte) (imaging.Config, error) {
	c, err := stdgif.DecodeConfig(bytes.NewReader(data))
	return imaging.Config{Width: c.Width, Height: c.Height}, err
}

// countFrames counts image descriptors by walking the block structure
// without decoding pixels, so that an animation with too many frames is
// refused before any frame is decoded.
func countFrames(data []byte, max int) (int, error) {
	if len(data) < 13 {
		return 0, fmt.Errorf("short header")
	}
	p := 13
	if data[10]&0x80 != 0 {
		p += 3 << (int(data[10]&7) + 1)
	}
	n := 0
	skipSub := func() error {
		for {
			if p >= len(data) {
				return fmt.Errorf("truncated data")
			}
			l := int(data[p])
			p++
			if l == 0 {
				return nil
			}
			p += l
		}
	}
	for p < len(data) {
		switch data[p] {
		case 0x21: // extension
			p += 2
			if err := skipSub(); err != nil {
				return n, err
			}
		case 0x2c: // image descriptor
			n++
			if n > max {
				return n, fmt.Errorf("%w: more than %d frames", imaging.ErrTooBig, max)
			}
			if p+10 > len(data) {
				return n, fmt.Errorf("truncated image descriptor")
			}
			flags := data[p+9]
			p += 10
			if flags&0x80 != 0 {
				p += 3 << (int(flags&7) + 1)
			}
			p++ // LZW minimum code size
			if err := skipSub(); err != nil {
				return n, err
			}
		case 0x3b:
			return n, nil
		default:
			return n, fmt.Errorf("unknown block 0x%02x", data[p])
		}
	}
	return n, nil
}

func decode(data []byte, b imaging.Bounds) (*imaging.Picture, error) {
	n, err := countFrames(data, b.MaxFrames)
	if err != nil {
		return nil, err
	}
	c, err := stdgif.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	// Every frame is composed onto a full logical screen.
	if total := n * c.Width * c.Height; total > b.MaxTotalPixels {
		return nil, fmt.Errorf("%w: %d frames of %dx%d are %d pixels in all, limit %d", imaging.ErrTooBig, n, c.Width, c.Height, total, b.MaxTotalPixels)
	}
	g, err := stdgif.DecodeAll(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if len(g.Image) > b.MaxFrames {
		return nil, fmt.Errorf("%w: %d frames, limit %d", imaging.ErrTooBig, len(g.Image), b.MaxFrames)
	}
	// Compose the frames onto the logical screen as a viewer shows them.
	screen := image.Rect(0, 0, g.Config.Width, g.Config.Height)
	canvas := image.NewRGBA(screen)
	p := &imaging.Picture{LoopCount: g.LoopCount}
	for i, fr := range g.Image {
		var prev *image.RGBA
		disp := byte(0)
		if i < len(g.Disposal) {
			disp = g.Disposal[i]
		}
		if disp == stdgif.DisposalPrevious {
			prev = image.NewRGBA(screen)
			copy(prev.Pix, canvas.Pix)
		}
		draw.Draw(canvas, fr.Bounds(), fr, fr.Bounds().Min, draw.Over)
		out := image.NewRGBA(screen)
		copy(out.Pix, canvas.Pix)
		p.Frames = append(p.Frames, out)
		d := time.Duration(0)
		if i < len(g.Delay) {
			d = time.Duration(g.Delay[i]) * 10 * time.Millisecond
		}
		p.Delays = append(p.Delays, d)
		switch disp {
		case stdgif.DisposalBackground:
			draw.Draw(canvas, fr.Bounds(), image.Transparent, image.Point{}, draw.Src)
		case stdgif.DisposalPrevious:
			canvas = prev
		}
	}
	if len(p.Frames) == 1 {
		p.Delays = nil
	}
	return p, nil
}

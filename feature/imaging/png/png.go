// Package png is the PNG decoder of the imaging service (the CE item
// SYSGEN_IMAGING_PNG_DECODE), backed by the standard library's image/png.
// Importing it registers the decoder; the image links it only when the
// design holds the item (build tag sysgen_imaging_png_decode in the
// importing command).
package png

import (
	"bytes"
	"image"
	stdpng "image/png"

	"github.com/oemkit/messenger/feature/imaging"
)

func init() {
	imaging.Register(imaging.Decoder{
		Name:   "png",
		Magic:  func(b []byte) bool { return imaging.Sniff(b) == "png" },
		Config: config,
		Decode: decode,
	})
}

func config(data []byte) (imaging.Config, error) {
	c, err := stdpng.DecodeConfig(bytes.NewReader(data))
	return imaging.Config{Width: c.Width, Height: c.Height}, err
}

func decode(data []byte, _ imaging.Bounds) (*imaging.Picture, error) {
	m, err := stdpng.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return &imaging.Picture{Frames: []image.Image{m}}, nil
}

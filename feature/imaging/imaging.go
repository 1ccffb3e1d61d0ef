// Package imaging is the device's picture decoding service (the CE item
// SYSGEN_IMAGING): decoders for single formats (feature/imaging/gif,
// feature/imaging/png) register themselves here, and callers (the
// Messenger window, the browser control host) decode through Decode with
// bounds on bytes, pixels, frames and time. A design without a decoder's
// item links no decoder for that format: Decode answers ErrUnsupported and
// the caller shows text instead.
package imaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"sort"
	"strings"
	"sync"
	"time"
)

// Bounds limits what one Decode accepts. Zero fields take the defaults.
type Bounds struct {
	// MaxBytes bounds the encoded input.
	MaxBytes int
	// MaxPixels bounds width*height of the picture (each frame).
	MaxPixels int
	// MaxSide bounds the width and the height.
	MaxSide int
	// MaxFrames bounds the frames of an animation.
	MaxFrames int
	// MaxTotalPixels bounds the pixels of all frames together (what the
	// decoded animation holds in memory, 4 bytes each).
	MaxTotalPixels int
	// MaxTime bounds the decoding time.
	MaxTime time.Duration
}

// DefaultBounds suit emoticons, status icons, display pictures and the
// pictures of a service page on a small device.
var DefaultBounds = Bounds{
	MaxBytes:  2 << 20,
	MaxPixels: 2048 * 2048,
	MaxSide:   4096,
	MaxFrames: 256,
	// 16 Mpixels: 64 MB of decoded frames at most.
	MaxTotalPixels: 16 << 20,
	MaxTime:        2 * time.Second,
}

func (b Bounds) withDefaults() Bounds {
	d := DefaultBounds
	if b.MaxBytes > 0 {
		d.MaxBytes = b.MaxBytes
	}
	if b.MaxPixels > 0 {
		d.MaxPixels = b.MaxPixels
	}
	if b.MaxSide > 0 {
		d.MaxSide = b.MaxSide
	}
	if b.MaxFrames > 0 {
		d.MaxFrames = b.MaxFrames
	}
	if b.MaxTotalPixels > 0 {
		d.MaxTotalPixels = b.MaxTotalPixels
	}
	if b.MaxTime > 0 {
		d.MaxTime = b.MaxTime
	}
	return d
}

// Errors callers branch on; Decode wraps them with what was found.
var (
	// ErrUnsupported: no decoder in this image for the data's format.
	ErrUnsupported = errors.New("imaging: no decoder for this format in the image")
	// ErrTooBig: the input, its dimensions or its frame count exceed the bounds.
	ErrTooBig = errors.New("imaging: picture exceeds the decoding bounds")
	// ErrMalformed: the decoder rejected the data.
	ErrMalformed = errors.New("imaging: malformed picture")
	// ErrTimeout: decoding took longer than Bounds.MaxTime.
	ErrTimeout = errors.New("imaging: decoding took too long")
)

// Picture is a decoded picture: one frame, or the frames of an animation.
type Picture struct {
	Format string
	// Frames hold at least one frame, each of Bounds() the picture's size.
	Frames []image.Image
	// Delays are the per-frame delays of an animation (nil for a still).
	Delays []time.Duration
	// LoopCount is the animation's loop count (0 forever, -1 once).
	LoopCount int
}

// Config is what a decoder reads from a picture's header.
type Config struct {
	Width, Height int
}

// Decoder is one format's decoder.
type Decoder struct {
	// Name is the format, e.g. "gif".
	Name string
	// Magic reports whether data starts like this format.
	Magic func(data []byte) bool
	// Config reads the header only.
	Config func(data []byte) (Config, error)
	// Decode decodes the picture within b (defaults filled in, header
	// already checked against MaxSide and MaxPixels); it returns ErrTooBig
	// (wrapped) when there are more than b.MaxFrames frames or more than
	// b.MaxTotalPixels pixels in all, before decoding them.
	Decode func(data []byte, b Bounds) (*Picture, error)
}

var (
	mu       sync.RWMutex
	decoders = map[string]Decoder{}
)

// running bounds the decodes in progress to the device's two cores,
// counting those whose caller gave up at MaxTime while their decoder (which
// cannot be interrupted) finishes within the byte and pixel bounds.
var running = make(chan struct{}, 2)

// Register adds a decoder; decoder packages call it from init.
func Register(d Decoder) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := decoders[d.Name]; dup {
		panic("imaging: decoder " + d.Name + " registered twice")
	}
	decoders[d.Name] = d
}

// Formats lists the formats this image can decode, sorted.
func Formats() []string {
	mu.RLock()
	defer mu.RUnlock()
	var fs []string
	for n := range decoders {
		fs = append(fs, n)
	}
	sort.Strings(fs)
	return fs
}

// Sniff names the format of data from its first bytes ("" if unknown):
// formats without a decoder in the image are named too, so that callers
// can say which decoder is missing.
func Sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return "gif"
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return "jpeg"
	case bytes.HasPrefix(data, []byte("BM")):
		return "bmp"
	}
	return ""
}

// Decode decodes data within bounds b (zero fields: DefaultBounds). The
// error wraps ErrUnsupported, ErrTooBig, ErrMalformed or ErrTimeout and
// says what was found and the limit; it is safe for concurrent use.
func Decode(ctx context.Context, data []byte, b Bounds) (*Picture, error) {
	b = b.withDefaults()
	if len(data) > b.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooBig, len(data), b.MaxBytes)
	}
	format := Sniff(data)
	mu.RLock()
	d, ok := decoders[format]
	mu.RUnlock()
	if !ok {
		if format == "" {
			return nil, fmt.Errorf("%w: unknown format (this image decodes %v)", ErrUnsupported, Formats())
		}
		item := "its decoder item"
		if format == "gif" || format == "png" {
			item = "SYSGEN_IMAGING_" + strings.ToUpper(format) + "_DECODE"
		}
		return nil, fmt.Errorf("%w: %s (add %s to the OS design; this image decodes %v)", ErrUnsupported, format, item, Formats())
	}
	cfg, err := d.Config(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %v", ErrMalformed, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels", ErrMalformed, format, cfg.Width, cfg.Height)
	}
	if cfg.Width > b.MaxSide || cfg.Height > b.MaxSide || cfg.Width*cfg.Height > b.MaxPixels {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels, limit %d pixels and %d a side", ErrTooBig, format, cfg.Width, cfg.Height, b.MaxPixels, b.MaxSide)
	}
	ctx, cancel := context.WithTimeout(ctx, b.MaxTime)
	defer cancel()
	type result struct {
		p   *Picture
		err error
	}
	done := make(chan result, 1)
	select {
	case running <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s waited %v for a free decoder (%d decodes running)", ErrTimeout, format, b.MaxTime, cap(running))
	}
	go func() {
		defer func() { <-running }()
		defer func() {
			if r := recover(); r != nil {
				done <- result{nil, fmt.Errorf("%w: %s decoder failed: %v", ErrMalformed, format, r)}
			}
		}()
		p, err := d.Decode(data, b)
		done <- result{p, err}
	}()
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s not decoded within %v", ErrTimeout, format, b.MaxTime)
	case r := <-done:
		if r.err != nil {
			if errors.Is(r.err, ErrTooBig) {
				return nil, r.err
			}
			return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, format, r.err)
		}
		if len(r.p.Frames) == 0 {
			return nil, fmt.Errorf("%w: %s has no frames", ErrMalformed, format)
		}
		total := 0
		for _, f := range r.p.Frames {
			s := f.Bounds().Size()
			if s.X > b.MaxSide || s.Y > b.MaxSide || s.X*s.Y > b.MaxPixels {
				return nil, fmt.Errorf("%w: %s frame of %dx%d pixels, limit %d pixels", ErrTooBig, format, s.X, s.Y, b.MaxPixels)
			}
			total += s.X * s.Y
		}
		if len(r.p.Frames) > b.MaxFrames || total > b.MaxTotalPixels {
			return nil, fmt.Errorf("%w: %s of %d frames, %d pixels in all; limit %d frames, %d pixels", ErrTooBig, format, len(r.p.Frames), total, b.MaxFrames, b.MaxTotalPixels)
		}
		r.p.Format = format
		return r.p, nil
	}
}

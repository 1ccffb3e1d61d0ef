package window

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/imaging"
)

//go:embed assets
var assets embed.FS

func assetBytes(name string) []byte {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic("window: missing built-in asset " + name) // the build embeds every one
	}
	return b
}

// Decoder turns picture bytes (GIF, PNG) into frames. The window decodes
// its emoticons and status icons through it, so the device's imaging
// service (SYSGEN_IMAGING) can stand in for the standard library's.
type Decoder interface {
	// Decode returns the frames of the picture with their display times
	// (one frame and a zero delay for a still picture).
	Decode(data []byte) ([]image.Image, []time.Duration, error)
}

// Bounds on the window's pictures (emoticons, status icons).
var Bounds = imaging.Bounds{MaxBytes: 256 << 10, MaxSide: 256, MaxPixels: 256 * 256, MaxFrames: 64,
	MaxTotalPixels: 64 * 256 * 256, MaxTime: 2 * time.Second}

// ErrPicture is wrapped by every error about a picture the window refuses.
var ErrPicture = errors.New("window: picture refused")

// ImagingDecoder decodes through the device's imaging service
// (SYSGEN_IMAGING) within Bounds: the decoders of the design's
// SYSGEN_IMAGING_GIF_DECODE and SYSGEN_IMAGING_PNG_DECODE items. A format
// without its decoder in the image is refused, and the window shows the
// emoticon's text code instead.
type ImagingDecoder struct{}

// Decode implements Decoder.
func (ImagingDecoder) Decode(b []byte) ([]image.Image, []time.Duration, error) {
	p, err := imaging.Decode(context.Background(), b, Bounds)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPicture, err)
	}
	delays := p.Delays
	if len(delays) != len(p.Frames) {
		delays = make([]time.Duration, len(p.Frames))
	}
	for i, d := range delays {
		if d <= 0 && len(p.Frames) > 1 {
			delays[i] = 100 * time.Millisecond
		}
	}
	return p.Frames, delays, nil
}

// Animation is a decoded picture.
type Animation struct {
	Frames []image.Image
	Delays []time.Duration
	total  time.Duration
}

// At returns the frame shown at time t since the start.
func (a *Animation) At(t time.Duration) image.Image {
	if len(a.Frames) == 1 || a.total <= 0 {
		return a.Frames[0]
	}
	t %= a.total
	for i, d := range a.Delays {
		if t < d {
			return a.Frames[i]
		}
		t -= d
	}
	return a.Frames[len(a.Frames)-1]
}

func newAnimation(d Decoder, b []byte) (*Animation, error) {
	fr, dl, err := d.Decode(b)
	if err != nil {
		return nil, err
	}
	if len(fr) == 0 || len(fr) != len(dl) {
		return nil, fmt.Errorf("%w: decoder returned %d frames and %d delays", ErrPicture, len(fr), len(dl))
	}
	a := &Animation{Frames: fr, Delays: dl}
	for _, x := range dl {
		a.total += x
	}
	return a, nil
}

// Emoticon codes (as MSN Messenger typed them) and their pictures.
var emoticonFiles = []struct{ code, file string }{
	{":)", "smile.gif"}, {":-)", "smile.gif"},
	{":(", "sad.gif"}, {":-(", "sad.gif"},
	{"(H)", "hot.gif"}, {"(h)", "hot.gif"},
	{"(Y)", "thumbsup.gif"}, {"(y)", "thumbsup.gif"},
	{":D", "grin.gif"}, {":-D", "grin.gif"}, {":d", "grin.gif"},
	{";)", "wink.gif"}, {";-)", "wink.gif"},
}

// Pictures are the decoded emoticons and status icons; a picture that the
// decoder refuses is missing, and the window shows its text code instead.
type Pictures struct {
	Emoticons map[string]*Animation // by code
	Status    map[string]image.Image
	Errors    []error
}

// LoadPictures decodes the built-in pictures with d.
func LoadPictures(d Decoder) *Pictures {
	p := &Pictures{Emoticons: map[string]*Animation{}, Status: map[string]image.Image{}}
	byFile := map[string]*Animation{}
	for _, e := range emoticonFiles {
		a, ok := byFile[e.file]
		if !ok {
			var err error
			if a, err = newAnimation(d, assetBytes(e.file)); err != nil {
				p.Errors = append(p.Errors, fmt.Errorf("%s: %w", e.file, err))
			}
			byFile[e.file] = a
		}
		if a != nil {
			p.Emoticons[e.code] = a
		}
	}
	for _, s := range []string{"NLN", "BSY", "IDL", "BRB", "AWY", "PHN", "LUN", "HDN", "FLN"} {
		a, err := newAnimation(d, assetBytes("status-"+s+".png"))
		if err != nil {
			p.Errors = append(p.Errors, fmt.Errorf("status-%s.png: %w", s, err))
			continue
		}
		p.Status[s] = a.Frames[0]
	}
	return p
}

// Token is a piece of a message: text, or an emoticon code.
type Token struct {
	Text     string
	Emoticon bool
}

// Tokenize splits a message into text and the emoticon codes p can show
// (longest code first at each position).
func (p *Pictures) Tokenize(s string) []Token {
	var out []Token
	start := 0
	for i := 0; i < len(s); {
		best := ""
		for _, e := range emoticonFiles {
			if len(e.code) > len(best) && strings.HasPrefix(s[i:], e.code) && p.Emoticons[e.code] != nil {
				best = e.code
			}
		}
		if best == "" {
			i++
			continue
		}
		if start < i {
			out = append(out, Token{Text: s[start:i]})
		}
		out = append(out, Token{Text: best, Emoticon: true})
		i += len(best)
		start = i
	}
	if start < len(s) {
		out = append(out, Token{Text: s[start:]})
	}
	return out
}

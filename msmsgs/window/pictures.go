package window

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/png"
	"strings"
	"time"
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

// Bounds on what StdDecoder accepts.
const (
	MaxPictureBytes  = 256 << 10
	MaxPictureSide   = 256
	MaxPictureFrames = 64
)

// ErrPicture is wrapped by every error about a picture the window refuses.
var ErrPicture = errors.New("window: picture refused")

// StdDecoder decodes GIF and PNG with the standard library, within the
// Max* bounds above.
type StdDecoder struct{}

// Decode implements Decoder.
func (StdDecoder) Decode(b []byte) ([]image.Image, []time.Duration, error) {
	if len(b) > MaxPictureBytes {
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrPicture, len(b), MaxPictureBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrPicture, err)
	}
	if cfg.Width > MaxPictureSide || cfg.Height > MaxPictureSide {
		return nil, nil, fmt.Errorf("%w: %dx%d pixels, limit %d per side", ErrPicture, cfg.Width, cfg.Height, MaxPictureSide)
	}
	switch format {
	case "gif":
		if n := bytes.Count(b, []byte{0x21, 0xF9, 0x04}); n > MaxPictureFrames {
			return nil, nil, fmt.Errorf("%w: about %d frames, limit %d", ErrPicture, n, MaxPictureFrames)
		}
		g, err := gif.DecodeAll(bytes.NewReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrPicture, err)
		}
		if len(g.Image) > MaxPictureFrames {
			return nil, nil, fmt.Errorf("%w: %d frames, limit %d", ErrPicture, len(g.Image), MaxPictureFrames)
		}
		return composeGIF(g)
	case "png":
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrPicture, err)
		}
		return []image.Image{img}, []time.Duration{0}, nil
	}
	return nil, nil, fmt.Errorf("%w: format %s is not GIF or PNG", ErrPicture, format)
}

// composeGIF renders each frame over the previous ones (disposal "none"
// and "background"), as a GIF viewer shows them.
func composeGIF(g *gif.GIF) ([]image.Image, []time.Duration, error) {
	r := image.Rect(0, 0, g.Config.Width, g.Config.Height)
	cur := image.NewRGBA(r)
	var frames []image.Image
	var delays []time.Duration
	for i, fr := range g.Image {
		draw.Draw(cur, fr.Bounds(), fr, fr.Bounds().Min, draw.Over)
		out := image.NewRGBA(r)
		copy(out.Pix, cur.Pix)
		frames = append(frames, out)
		d := 100 * time.Millisecond
		if i < len(g.Delay) && g.Delay[i] > 0 {
			d = time.Duration(g.Delay[i]) * 10 * time.Millisecond
		}
		delays = append(delays, d)
		if i < len(g.Disposal) && g.Disposal[i] == gif.DisposalBackground {
			draw.Draw(cur, fr.Bounds(), image.Transparent, image.Point{}, draw.Src)
		}
	}
	return frames, delays, nil
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

package window

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestDecoderRefusesHostilePictures: through the imaging service, a GIF
// with 10,000 frames, a PNG that claims 100,000 x 100,000 pixels and
// garbage are refused with a message,
// quickly, and LoadPictures with a refusing decoder leaves the window
// showing the text codes.
func TestDecoderRefusesHostilePictures(t *testing.T) {
	pal := color.Palette{color.Black, color.White}
	g := &gif.GIF{}
	for i := 0; i < 10000; i++ {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, 1, 1), pal))
		g.Delay = append(g.Delay, 1)
	}
	var many bytes.Buffer
	if err := gif.EncodeAll(&many, g); err != nil {
		t.Fatal(err)
	}
	var small bytes.Buffer
	png.Encode(&small, image.NewGray(image.Rect(0, 0, 1, 1)))
	huge := append([]byte(nil), small.Bytes()...)
	// IHDR width and height at offsets 16 and 20; the CRC no longer
	// matches, but the size check comes first.
	copy(huge[16:], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	for name, b := range map[string][]byte{
		"10000 frames":   many.Bytes(),
		"100000x100000":  huge,
		"garbage":        []byte("GIF89a\x00\x00garbage"),
		"too many bytes": bytes.Repeat([]byte{0}, Bounds.MaxBytes+1),
		"not a picture":  []byte("hello"),
	} {
		start := time.Now()
		_, _, err := ImagingDecoder{}.Decode(b)
		if !errors.Is(err, ErrPicture) {
			t.Errorf("Decode(%s) = %v, want ErrPicture", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Decode(%s) took %v", name, d)
		}
	}
	p := LoadPictures(refuser{})
	if len(p.Errors) == 0 || len(p.Emoticons) != 0 {
		t.Fatalf("LoadPictures(refusing decoder): %d errors, %d emoticons; want errors and none", len(p.Errors), len(p.Emoticons))
	}
	toks := p.Tokenize("hi :) (Y)")
	if len(toks) != 1 || toks[0].Emoticon {
		t.Errorf("Tokenize without pictures = %+v, want the text as it is", toks)
	}
}

type refuser struct{}

func (refuser) Decode([]byte) ([]image.Image, []time.Duration, error) {
	return nil, nil, ErrPicture
}

func TestTokenize(t *testing.T) {
	p := LoadPictures(ImagingDecoder{})
	got := p.Tokenize("a:)b:-)(H)(y) :D")
	var s []string
	for _, tk := range got {
		if tk.Emoticon {
			s = append(s, "["+tk.Text+"]")
		} else {
			s = append(s, tk.Text)
		}
	}
	if strings.Join(s, "") != "a[:)]b[:-)][(H)][(y)] [:D]" {
		t.Errorf("Tokenize = %q", strings.Join(s, ""))
	}
}

// FuzzMessage lays out and draws any message a peer may send: the layout
// stays inside the line width and drawing never panics.
func FuzzMessage(f *testing.F) {
	for _, s := range []string{"hi :) (Y)", "", strings.Repeat("x", 3000), "日本語のメッセージ (H)", "\x00\xff:(", strings.Repeat(":)", 500)} {
		f.Add(s)
	}
	r := renderer(f, "en-US")
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > MaxInput*4 {
			s = s[:MaxInput*4]
		}
		for _, line := range r.wrap(s, 200) {
			w := 0
			for _, it := range line {
				w += it.w
			}
			if w > 200 && len(line) > 1 {
				t.Fatalf("line of %d px > 200: %+v", w, line)
			}
		}
		m := signedIn()
		m.Apply(messageEvent("bob@lab.example", s))
		r.Render(img, m, epoch)
		if !utf8.ValidString(string(m.Input)) {
			t.Fatal("input not UTF-8")
		}
	})
}

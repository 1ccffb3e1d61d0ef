package imaging_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	stdgif "image/gif"
	stdpng "image/png"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/imaging"
	_ "github.com/oemkit/messenger/feature/imaging/gif"
	_ "github.com/oemkit/messenger/feature/imaging/png"
)

func pngBytes(t testing.TB, w, h int) []byte {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range m.Pix {
		m.Pix[i] = byte(i)
	}
	var b bytes.Buffer
	if err := stdpng.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gifBytes makes an animation of n frames of w x h.
func gifBytes(t testing.TB, w, h, n int) []byte {
	pal := color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}}
	g := &stdgif.GIF{}
	for i := 0; i < n; i++ {
		f := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		f.Pix[i%len(f.Pix)] = uint8(1 + i%2)
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 10)
	}
	var b bytes.Buffer
	if err := stdgif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugePNG returns a PNG whose header claims w x h pixels (with a valid CRC).
func hugePNG(t testing.TB, w, h uint32) []byte {
	b := pngBytes(t, 1, 1)
	ihdr := b[8+8 : 8+8+13]
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(b[8+8+13:], crc32.ChecksumIEEE(b[8+4:8+8+13]))
	return b
}

func TestDecode(t *testing.T) {
	ctx := context.Background()
	p, err := imaging.Decode(ctx, pngBytes(t, 19, 7), imaging.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "png" || len(p.Frames) != 1 || p.Frames[0].Bounds().Dx() != 19 || p.Frames[0].Bounds().Dy() != 7 {
		t.Errorf("png = %s %d frames %v, want png 1 frame 19x7", p.Format, len(p.Frames), p.Frames[0].Bounds())
	}
	p, err = imaging.Decode(ctx, gifBytes(t, 16, 16, 4), imaging.Bounds{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "gif" || len(p.Frames) != 4 || len(p.Delays) != 4 || p.Delays[0] != 100*time.Millisecond {
		t.Errorf("gif = %s %d frames delays %v, want gif 4 frames of 100ms", p.Format, len(p.Frames), p.Delays)
	}
	if got := imaging.Formats(); len(got) != 2 {
		t.Errorf("Formats() = %v, want [gif png]", got)
	}
}

func TestDecodeRefuses(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		data []byte
		b    imaging.Bounds
		want error
		text string
	}{
		{"png 100000x100000", hugePNG(t, 100000, 100000), imaging.Bounds{}, imaging.ErrTooBig, "100000x100000"},
		{"gif 10000 frames", gifBytes(t, 2, 2, 10000), imaging.Bounds{MaxBytes: 8 << 20}, imaging.ErrTooBig, "more than 256 frames"},
		{"bytes", pngBytes(t, 64, 64), imaging.Bounds{MaxBytes: 100}, imaging.ErrTooBig, "limit 100"},
		{"gif frames x pixels", gifBytes(t, 512, 512, 100), imaging.Bounds{MaxBytes: 8 << 20}, imaging.ErrTooBig, "100 frames of 512x512 are 26214400 pixels in all"},
		{"truncated png", pngBytes(t, 64, 64)[:60], imaging.Bounds{}, imaging.ErrMalformed, "png"},
		{"truncated gif", gifBytes(t, 8, 8, 3)[:40], imaging.Bounds{}, imaging.ErrMalformed, "gif"},
		{"jpeg", []byte("\xff\xd8\xff\xe0rest"), imaging.Bounds{}, imaging.ErrUnsupported, "jpeg"},
		{"text", []byte("hello"), imaging.Bounds{}, imaging.ErrUnsupported, "unknown format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := imaging.Decode(ctx, c.data, c.b)
			if !errors.Is(err, c.want) || !bytes.Contains([]byte(err.Error()), []byte(c.text)) {
				t.Fatalf("Decode = %v, want %v mentioning %q", err, c.want, c.text)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("refusal took %v", d)
			}
		})
	}
}

func TestDecodeTimeout(t *testing.T) {
	// A 2048x2048 PNG does not decode in 1 ns.
	_, err := imaging.Decode(context.Background(), pngBytes(t, 2048, 2048), imaging.Bounds{MaxTime: time.Nanosecond})
	if !errors.Is(err, imaging.ErrTimeout) {
		t.Fatalf("Decode = %v, want ErrTimeout", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(pngBytes(f, 3, 3))
	f.Add(gifBytes(f, 3, 3, 3))
	f.Add(hugePNG(f, 100000, 100000))
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b := imaging.Bounds{MaxBytes: 1 << 16, MaxPixels: 256 * 256, MaxFrames: 16, MaxTime: time.Second}
		p, err := imaging.Decode(context.Background(), data, b)
		if err != nil {
			if !errors.Is(err, imaging.ErrTooBig) && !errors.Is(err, imaging.ErrMalformed) && !errors.Is(err, imaging.ErrUnsupported) && !errors.Is(err, imaging.ErrTimeout) {
				t.Fatalf("error %v is none of the sentinels", err)
			}
			return
		}
		if len(p.Frames) == 0 || len(p.Frames) > 16 {
			t.Fatalf("%d frames", len(p.Frames))
		}
		for _, fr := range p.Frames {
			if s := fr.Bounds().Size(); s.X*s.Y > 256*256 {
				t.Fatalf("frame %v beyond bounds", s)
			}
		}
	})
}

// BenchmarkDecodePNG decodes a 512x512 RGBA PNG through the service
// (bytes/s of encoded input; Mpixel/s of output).
func BenchmarkDecodePNG(b *testing.B) {
	// A photo-like picture: gradients with noise, which compress as
	// photos do (about 3 bytes a pixel), not as flat colour.
	m := image.NewRGBA(image.Rect(0, 0, 512, 512))
	seed := uint32(1)
	for i := 0; i < len(m.Pix); i += 4 {
		seed = seed*1664525 + 1013904223
		x, y := (i/4)%512, (i/4)/512
		m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = byte(x/2)+byte(seed>>29), byte(y/2)+byte(seed>>26&7), byte(x+y)/2, 255
	}
	var buf bytes.Buffer
	if err := stdpng.Encode(&buf, m); err != nil {
		b.Fatal(err)
	}
	benchDecode(b, buf.Bytes(), 512*512)
}

// BenchmarkDecodeGIF decodes an 8-frame 128x128 animation (an emoticon
// sheet's worth) and composes its frames.
func BenchmarkDecodeGIF(b *testing.B) {
	data := gifBytes(b, 128, 128, 8)
	benchDecode(b, data, 8*128*128)
}

func benchDecode(b *testing.B, data []byte, pixels int) {
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := imaging.Decode(ctx, data, imaging.Bounds{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(pixels)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mpixel/s")
}

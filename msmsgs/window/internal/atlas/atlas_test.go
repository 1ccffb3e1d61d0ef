package atlas

import (
	"bytes"
	"errors"
	"image"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sample() *Atlas {
	return &Atlas{Size: 13, Ascent: 11, Descent: 3, Height: 15, Glyphs: []Glyph{
		{Rune: 'あ', Advance: 13 << 6, Bounds: image.Rect(1, -10, 4, -8), Mask: []byte{1, 2, 3, 4, 5, 6}},
		{Rune: 'い', Advance: 12 << 6, Bounds: image.Rect(0, -9, 1, -8), Mask: []byte{255}},
	}}
}

func TestRoundTrip(t *testing.T) {
	b, err := Encode(sample())
	if err != nil {
		t.Fatal(err)
	}
	a, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sample(), a); diff != "" {
		t.Errorf("Decode(Encode(a)) differs (-want +got):\n%s", diff)
	}
	f := NewFace(a)
	if adv, ok := f.GlyphAdvance('あ'); !ok || adv != 13<<6 {
		t.Errorf("GlyphAdvance(あ) = %v, %v, want 13px, true", adv, ok)
	}
	if _, ok := f.GlyphAdvance('x'); ok {
		t.Errorf("GlyphAdvance(x) ok, want not in the atlas")
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := Encode(sample())
	for name, b := range map[string][]byte{
		"not gzip":  []byte("MSGATLAS1\n"),
		"truncated": good[:len(good)-8],
		"empty":     nil,
	} {
		if _, err := Decode(b); !errors.Is(err, ErrFormat) {
			t.Errorf("Decode(%s) = %v, want ErrFormat", name, err)
		}
	}
	bad := sample()
	bad.Glyphs[0].Mask = bad.Glyphs[0].Mask[:2]
	if _, err := Encode(bad); err == nil {
		t.Errorf("Encode(mask too short) succeeded")
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode(sample())
	f.Add(good)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0x1f, 0x8b}, 10))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Decode(b)
		if err != nil {
			return
		}
		for _, g := range a.Glyphs {
			if len(g.Mask) != g.Bounds.Dx()*g.Bounds.Dy() {
				t.Fatalf("glyph %U: mask %d bytes for %v", g.Rune, len(g.Mask), g.Bounds)
			}
		}
		NewFace(a)
	})
}

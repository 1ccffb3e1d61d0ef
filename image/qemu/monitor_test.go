package qemu

import (
	"bytes"
	"testing"
)

func TestParsePPM(t *testing.T) {
	in := append([]byte("P6\n# qemu\n2 1\n255\n"), 10, 20, 30, 40, 50, 60)
	img, err := ParsePPM(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c := img.RGBAAt(1, 0); c.R != 40 || c.G != 50 || c.B != 60 || c.A != 255 {
		t.Errorf("pixel (1,0) = %v, want 40 50 60 255", c)
	}
	for _, bad := range []string{"P5\n1 1\n255\n\x00", "P6\n99999 1\n255\n", "P6\n1 1\n65535\n", "P6\n2 2\n255\n\x00"} {
		if _, err := ParsePPM(bytes.NewReader([]byte(bad))); err == nil {
			t.Errorf("ParsePPM(%q) succeeded, want an error", bad)
		}
	}
}

func FuzzParsePPM(f *testing.F) {
	f.Add(append([]byte("P6\n2 1\n255\n"), 1, 2, 3, 4, 5, 6))
	f.Add([]byte("P6 # c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := ParsePPM(bytes.NewReader(b))
		if err == nil && len(img.Pix) != 4*img.Rect.Dx()*img.Rect.Dy() {
			t.Fatalf("pixels %d for %v", len(img.Pix), img.Rect)
		}
	})
}

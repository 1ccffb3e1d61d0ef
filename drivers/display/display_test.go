package display

import (
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// pciTree writes a fake sysfs PCI device.
func pciTree(t *testing.T, root, name, modalias string) {
	t.Helper()
	d := filepath.Join(root, "bus", "pci", "devices", name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "modalias"), []byte(modalias+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInitBindsBochs(t *testing.T) {
	root, dev := t.TempDir(), t.TempDir()
	pciTree(t, root, "0000:00:02.0", "pci:v00001234d00001111sv00001AF4sd00001100bc03sc80i00")
	var loaded []string
	d := &Driver{SysRoot: root, DevDir: dev, Timeout: 2 * time.Second, Load: func(names ...string) ([]string, error) {
		loaded = append(loaded, names...)
		os.WriteFile(filepath.Join(dev, "fb0"), nil, 0o644) // the kernel creates it
		return names, nil
	}}
	ok, err := d.Init()
	if !ok || err != nil {
		t.Fatalf("Init() = %v, %v, want true, nil", ok, err)
	}
	if !slices.Equal(loaded, []string{"bochs"}) {
		t.Errorf("loaded %v, want [bochs]", loaded)
	}
}

func TestInitSkipsWithoutDisplay(t *testing.T) {
	root := t.TempDir()
	pciTree(t, root, "0000:00:03.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
	d := &Driver{SysRoot: root, DevDir: t.TempDir(), Timeout: time.Second, Load: func(names ...string) ([]string, error) { return names, nil }}
	ok, err := d.Init()
	if ok || !errors.Is(err, ErrNoDisplay) {
		t.Fatalf("Init() = %v, %v, want false, ErrNoDisplay", ok, err)
	}
}

func TestInitNoFramebuffer(t *testing.T) {
	root := t.TempDir()
	pciTree(t, root, "0000:00:02.0", "pci:v00001AF4d00001050sv00001AF4sd00001100bc03sc00i00")
	d := &Driver{SysRoot: root, DevDir: t.TempDir(), Timeout: 50 * time.Millisecond, Load: func(names ...string) ([]string, error) { return names, nil }}
	if _, err := d.Init(); !errors.Is(err, ErrNoFramebuffer) {
		t.Fatalf("Init() error = %v, want ErrNoFramebuffer", err)
	}
}

func TestConvert(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 4, 2))
	src.SetRGBA(1, 1, color.RGBA{0x11, 0x22, 0x33, 0xff})
	// XRGB8888 as bochs sets it up: blue in the low byte.
	dst := make([]byte, 5*4*3)
	f := Format{BPP: 32, Red: 16, Green: 8, Blue: 0, RedLen: 8, GreenLen: 8, BlueLen: 8}
	if err := Convert(dst, 5*4, f, image.Pt(5, 3), src, src.Bounds()); err != nil {
		t.Fatal(err)
	}
	if got := dst[1*20+1*4 : 1*20+1*4+4]; !slices.Equal(got, []byte{0x33, 0x22, 0x11, 0}) {
		t.Errorf("pixel (1,1) = % x, want 33 22 11 00", got)
	}
	rgb565 := Format{BPP: 16, Red: 11, Green: 5, Blue: 0, RedLen: 5, GreenLen: 6, BlueLen: 5}
	d16 := make([]byte, 4*2*2)
	src.SetRGBA(0, 0, color.RGBA{0xff, 0, 0, 0xff})
	if err := Convert(d16, 8, rgb565, image.Pt(4, 2), src, src.Bounds()); err != nil {
		t.Fatal(err)
	}
	if d16[0] != 0x00 || d16[1] != 0xf8 {
		t.Errorf("red in RGB565 = % x, want 00 f8", d16[:2])
	}
	if err := Convert(dst, 20, Format{BPP: 24}, image.Pt(5, 3), src, src.Bounds()); err == nil {
		t.Errorf("Convert(24 bpp) succeeded, want an error")
	}
}

func BenchmarkConvertXRGB1024x768(b *testing.B) {
	src := image.NewRGBA(image.Rect(0, 0, 1024, 768))
	dst := make([]byte, 1024*768*4)
	f := Format{BPP: 32, Red: 16, Green: 8, Blue: 0, RedLen: 8, GreenLen: 8, BlueLen: 8}
	for i := 0; i < b.N; i++ {
		Convert(dst, 4096, f, image.Pt(1024, 768), src, src.Bounds())
	}
}

// TestConvertXRGBWords: the two-pixels-a-word XRGB8888 path writes what
// the pixel-by-pixel formula does, for odd widths and offsets too.
func TestConvertXRGBWords(t *testing.T) {
	f := Format{BPP: 32, Red: 16, Green: 8, Blue: 0, RedLen: 8, GreenLen: 8, BlueLen: 8}
	src := image.NewRGBA(image.Rect(0, 0, 7, 3))
	for i := range src.Pix {
		src.Pix[i] = byte(i*37 + 11)
	}
	for _, r := range []image.Rectangle{src.Bounds(), image.Rect(1, 0, 6, 3), image.Rect(3, 1, 4, 2), image.Rect(2, 0, 4, 3)} {
		dst := make([]byte, 7*4*3)
		for i := range dst {
			dst[i] = 0xee
		}
		if err := Convert(dst, 7*4, f, image.Pt(7, 3), src, r); err != nil {
			t.Fatal(err)
		}
		for y := 0; y < 3; y++ {
			for x := 0; x < 7; x++ {
				got := dst[y*28+x*4 : y*28+x*4+4]
				want := []byte{0xee, 0xee, 0xee, 0xee}
				if image.Pt(x, y).In(r) {
					c := src.RGBAAt(x, y)
					want = []byte{c.B, c.G, c.R, 0}
				}
				if !slices.Equal(got, want) {
					t.Errorf("rect %v pixel (%d,%d) = % x, want % x", r, x, y, got, want)
				}
			}
		}
	}
}

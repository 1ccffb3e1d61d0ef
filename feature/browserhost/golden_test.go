package browserhost

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemkit/messenger/feature/browserhost/fonts"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/messengerd/startpage"
)

var update = flag.Bool("update", false, "rewrite testdata/startpage-latin.png")

// TestStartPageGolden draws the lab start page 480 pixels wide with the Go
// fonts alone (no CJK fallback, so the picture depends on nothing outside
// the module) and compares it with testdata/startpage-latin.png: at most
// 0.1% of the pixels may differ by more than 32 levels in a channel.
// Regenerate with go test ./feature/browserhost -run TestStartPageGolden -update.
func TestStartPageGolden(t *testing.T) {
	srv := httptest.NewServer(startpage.Handler())
	defer srv.Close()
	fs, err := fonts.New("")
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(wininet.Config{}, Limits{}, fs, 480)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Open(context.Background(), srv.URL+startpage.Path); err != nil {
		t.Fatal(err)
	}
	got := h.Render(0)
	golden := filepath.Join("testdata", "startpage-latin.png")
	if *update {
		var b bytes.Buffer
		if err := png.Encode(&b, got); err != nil {
			t.Fatal(err)
		}
		if err := fsutil.WriteFileAtomic(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	want, ok := m.(*image.NRGBA)
	if !ok {
		w := image.NewNRGBA(m.Bounds())
		for y := m.Bounds().Min.Y; y < m.Bounds().Max.Y; y++ {
			for x := m.Bounds().Min.X; x < m.Bounds().Max.X; x++ {
				w.Set(x, y, m.At(x, y))
			}
		}
		want = w
	}
	if got.Bounds() != want.Bounds() {
		t.Fatalf("start page drawn %v, golden %v (if intended, run with -update)", got.Bounds(), want.Bounds())
	}
	diff := 0
	for i := 0; i < len(got.Pix); i += 4 {
		for c := 0; c < 3; c++ {
			if d := int(got.Pix[i+c]) - int(want.Pix[i+c]); d > 32 || d < -32 {
				diff++
				break
			}
		}
	}
	if total := len(got.Pix) / 4; diff*1000 > total {
		t.Errorf("%d of %d pixels differ from %s (more than 0.1%%); if intended, run with -update", diff, total, golden)
	}
}

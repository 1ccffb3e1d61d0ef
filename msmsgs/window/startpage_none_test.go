//go:build !sysgen_shdocvw

package window

import (
	"context"
	"image"
	"testing"
)

// TestStartPageNotInDesign: without SYSGEN_SHDOCVW the F5 screen says in
// one line that the browser host is not in the design, and the pane
// takes no keys.
func TestStartPageNotInDesign(t *testing.T) {
	p := NewStartPage(nil, "http://127.0.0.1:1/start/", 480, "", nil)
	if p.InDesign() {
		t.Fatal("a build without sysgen_shdocvw has a browser host")
	}
	if ok, err := p.Key(context.Background(), Key{Code: KeyTab}, 500); ok || err != nil {
		t.Errorf("Tab: handled %v, %v", ok, err)
	}
	r := renderer(t, "en-US")
	r.Start = p
	m := signedIn()
	m.Key(Key{Code: KeyF5}, epoch)
	img := image.NewRGBA(image.Rect(0, 0, 480, 640))
	r.Render(img, m, epoch)
	golden(t, "startpage-none", img)
}

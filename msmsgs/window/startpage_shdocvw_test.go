//go:build sysgen_shdocvw

package window

import (
	"context"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/font"

	"github.com/oemkit/messenger/messengerd/startpage"
)

// startPageServer serves the lab service's start page as messengerd -http
// does, and returns the pane opened on it (480 pixels wide, the Go fonts
// alone so the picture depends on nothing outside the module).
func openedStartPage(t *testing.T) (*StartPage, string) {
	t.Helper()
	srv := httptest.NewServer(startpage.Handler())
	t.Cleanup(srv.Close)
	p := NewStartPage(nil, srv.URL+startpage.Path, 480, "", nil)
	if !p.InDesign() || p.made {
		t.Fatalf("start page pane: in design %v, host made before the first Open %v", p.InDesign(), p.made)
	}
	if err := p.Open(context.Background()); err != nil || p.setup != nil {
		t.Fatal(err, p.setup)
	}
	return p, srv.URL
}

func startModel() *Model {
	m := signedIn()
	m.Key(Key{Code: KeyF5}, epoch)
	return m
}

// TestStartPageScreen draws the F5 screen with the start page fetched
// from the lab service's handler and compares it with
// testdata/startpage-window.png (go test -tags sysgen_shdocvw
// ./msmsgs/window -run TestStartPageScreen -update to rewrite it; add
// -screens docs/screens for the documentation copy).
func TestStartPageScreen(t *testing.T) {
	p, _ := openedStartPage(t)
	r := renderer(t, "en-US")
	r.Start = p
	m := startModel()
	if m.Screen != ScreenStartPage || m.StartOpens != 1 || ScreenName(m) != "startpage" {
		t.Fatalf("after F5: screen %v (%s), opens %d", m.Screen, ScreenName(m), m.StartOpens)
	}
	img := image.NewRGBA(image.Rect(0, 0, 480, 640))
	r.Render(img, m, epoch)
	// The page's title and first heading are drawn: the pane holds ink.
	if n := ink(img, startPageArea(img.Bounds())); n < 5000 {
		t.Errorf("the start page pane holds %d non-white pixels, want the page", n)
	}
	golden(t, "startpage-window", img)
	m.Key(Key{Code: KeyEsc}, epoch)
	if m.Screen != ScreenContacts {
		t.Errorf("Esc on the start page: screen %v, want the contacts", m.Screen)
	}
}

// ink counts the pixels in r that are not white.
func ink(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			if c.R != 0xff || c.G != 0xff || c.B != 0xff {
				n++
			}
		}
	}
	return n
}

// TestStartPageKeys: the host focuses the first link (About) on opening;
// Tab moves to the next (Help), Enter follows it,
// Backspace comes back; the screen shows the new page.
func TestStartPageKeys(t *testing.T) {
	p, base := openedStartPage(t)
	ctx := context.Background()
	h := p.host.(browserPane).h
	viewH := startPageArea(image.Rect(0, 0, 480, 640)).Dy()
	if h.Focus != 0 || len(h.Page.Doc.Links) != 2 {
		t.Fatalf("opened: focus %d on links %v, want the first of about and help", h.Focus, h.Page.Doc.Links)
	}
	for _, k := range []KeyCode{KeyTab, KeyEnter} {
		if ok, err := p.Key(ctx, Key{Code: k}, viewH); !ok || err != nil {
			t.Fatalf("key %v: handled %v, %v", k, ok, err)
		}
	}
	if want := base + startpage.Path + "help.html"; h.URL != want {
		t.Fatalf("Tab, Enter: page %s, want %s", h.URL, want)
	}
	r := renderer(t, "en-US")
	r.Start = p
	img := image.NewRGBA(image.Rect(0, 0, 480, 640))
	r.Render(img, startModel(), epoch)
	if h.Page.Doc.Title != "Help" || ink(img, startPageArea(img.Bounds())) < 1000 {
		t.Errorf("after following the link: title %q, pane ink %d", h.Page.Doc.Title, ink(img, startPageArea(img.Bounds())))
	}
	// Backspace goes back; Shift-Tab from the first link wraps to the last.
	if _, err := p.Key(ctx, Key{Code: KeyBackspace}, viewH); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(h.URL, startpage.Path) {
		t.Errorf("Backspace: page %s, want the start page", h.URL)
	}
	if _, err := p.Key(ctx, Key{Code: KeyShiftTab}, viewH); err != nil {
		t.Fatal(err)
	}
	if n := len(h.Page.Doc.Links); h.Focus != n-1 {
		t.Errorf("Shift-Tab: focus %d, want the last of %d links", h.Focus, n)
	}
	// Keys the pane does not take are not handed to it.
	if ok, _ := p.Key(ctx, Key{Code: KeyRune, Rune: 'x'}, viewH); ok {
		t.Error("the pane took a letter key")
	}
}

// TestStartPageUnreachable: a start page that cannot be fetched shows why
// in the pane instead of a blank screen.
func TestStartPageUnreachable(t *testing.T) {
	srv := httptest.NewServer(startpage.Handler())
	url := srv.URL + startpage.Path
	srv.Close()
	p := NewStartPage(nil, url, 480, "", nil)
	if err := p.Open(context.Background()); err == nil {
		t.Fatal("Open of a closed server succeeded")
	}
	r := renderer(t, "en-US")
	r.Start = p
	img := image.NewRGBA(image.Rect(0, 0, 480, 640))
	r.Render(img, startModel(), epoch)
	bar := startPageArea(img.Bounds())
	bar.Max.Y = bar.Min.Y + hintH
	if n := ink(img, bar); n < 500 {
		t.Errorf("the error line holds %d non-white pixels", n)
	}
}

// TestStartPageClick: a pointer click on a link's text in the pane (the
// point the tablet reports, relative to the pane) follows the link.
func TestStartPageClick(t *testing.T) {
	p, base := openedStartPage(t)
	h := p.host.(browserPane).h
	ctx := context.Background()
	if ok, err := p.Click(ctx, image.Pt(470, 2)); ok || err != nil {
		t.Fatalf("click beside the links = %v, %v; want nothing", ok, err)
	}
	help := -1
	for i, l := range h.Page.Doc.Links {
		if strings.HasSuffix(l, "help.html") {
			help = i
		}
	}
	if help < 0 {
		t.Fatalf("no help link in %q", h.Page.Doc.Links)
	}
	b := h.Page.LinkBoxes[help][0]
	if ok, err := p.Click(ctx, image.Pt(b.Min.X+2, (b.Min.Y+b.Max.Y)/2)); !ok || err != nil {
		t.Fatalf("click on the Help link = %v, %v", ok, err)
	}
	if want := base + startpage.Path + "help.html"; h.URL != want {
		t.Errorf("after the click: page %s, want %s", h.URL, want)
	}
}

// TestStartPageCJKFromAtlas: on a device without a CJK font file the
// pane draws the Japanese the window's atlas holds with the atlas'
// glyphs, not the Go fonts' boxes (a rune the atlas lacks, such as 龘,
// stays a box).
func TestStartPageCJKFromAtlas(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><body><p>オンライン</p><p>龘</p></body></html>")
	}))
	defer srv.Close()
	fs, err := LoadFonts("")
	if err != nil {
		t.Fatal(err)
	}
	noFont := filepath.Join(t.TempDir(), "none.ttf")
	shot := func(last font.Face) (*image.RGBA, *StartPage) {
		p := NewStartPage(nil, srv.URL, 480, noFont, last)
		if err := p.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 480, 120))
		p.draw(img, img.Bounds())
		return img, p
	}
	boxes, _ := shot(nil)
	glyphs, p := shot(fs.Atlas())
	h := p.host.(browserPane).h
	f := h.Page.Doc
	if len(f.Blocks) < 2 {
		t.Fatalf("page has %d blocks", len(f.Blocks))
	}
	// The first paragraph changes (atlas glyphs instead of boxes).
	line := func(img *image.RGBA, y0, y1 int) *image.RGBA {
		return img.SubImage(image.Rect(0, y0, 480, y1)).(*image.RGBA)
	}
	n, _ := diffPixels(line(boxes, 0, 30), line(glyphs, 0, 30))
	if n < 30 {
		t.Errorf("オンライン: %d pixels differ between boxes and the atlas, want the atlas glyphs", n)
	}
	if ink(line(glyphs, 0, 30), image.Rect(0, 0, 480, 30)) < 60 {
		t.Errorf("オンライン drew almost nothing with the atlas")
	}
	if _, ok := fs.Atlas().GlyphAdvance('オ'); !ok {
		t.Fatal("the atlas lacks オ")
	}
	if _, ok := fs.Atlas().GlyphAdvance('龘'); ok {
		t.Fatal("the atlas has 龘; pick another rune it lacks")
	}
}

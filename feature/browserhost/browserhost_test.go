package browserhost

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oemkit/messenger/feature/browserhost/fonts"
	_ "github.com/oemkit/messenger/feature/imaging/gif"
	_ "github.com/oemkit/messenger/feature/imaging/png"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/messengerd/startpage"
)

func testFonts(t testing.TB) *fonts.Set {
	fs, err := fonts.New(fonts.DefaultFallback)
	if err != nil {
		t.Logf("no CJK fallback: %v", err)
	}
	return fs
}

func TestParseSubset(t *testing.T) {
	base, _ := url.Parse("http://lab.example/start/")
	doc := Parse([]byte(`<html><head><title>T  x</title><script>var x="<p>no</p>"</script></head><body>
<h2>Head</h2><p>one <b>bold</b> <i>it</i> <font color="red">red</font> <span style="color:#00f">blue</span> <a href="b.html">link</a></p>
<ul><li>a<ol><li>b</li><li>c</li></ol></li></ul>
<table><tr><th>k</th><td>v</td></tr></table><hr><img src="x.png" alt="pic"><a href="javascript:alert(1)">js</a></body></html>`), base, Limits{})
	if doc.Title != "T x" {
		t.Errorf("Title = %q", doc.Title)
	}
	var kinds []string
	for _, b := range doc.Blocks {
		kinds = append(kinds, fmt.Sprintf("%d/%d/%s", b.Kind, b.Level, b.Marker))
	}
	want := "1/2/ 0/0/ 2/1/• 2/2/1. 2/2/2. 3/0/ 4/0/ 0/0/"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("blocks = %s, want %s", got, want)
	}
	p := doc.Blocks[1].Inline
	find := func(s string) Style {
		for _, in := range p {
			if strings.TrimSpace(in.Text) == s {
				return in.Style
			}
		}
		t.Fatalf("no inline %q in %+v", s, p)
		return Style{}
	}
	if !find("bold").Bold || !find("it").Italic || find("red").Color != (color.RGBA{255, 0, 0, 255}) || find("blue").Color != (color.RGBA{0, 0, 255, 255}) || find("link").Link != 0 {
		t.Errorf("styles wrong: %+v", p)
	}
	if len(doc.Links) != 1 || doc.Links[0] != "http://lab.example/start/b.html" {
		t.Errorf("Links = %v (javascript: must not be a link)", doc.Links)
	}
	if len(doc.Images) != 1 || doc.Images[0].URL != "http://lab.example/start/x.png" || doc.Images[0].Alt != "pic" {
		t.Errorf("Images = %v", doc.Images)
	}
	if got := len(doc.Blocks[5].Cells); got != 2 || !doc.Blocks[5].Cells[0][0].Style.Bold {
		t.Errorf("table row = %+v", doc.Blocks[5])
	}
	if strings.Contains(fmt.Sprint(doc.Blocks), "no") && strings.Contains(fmt.Sprint(doc.Blocks), `var x`) {
		t.Errorf("script text shown")
	}
}

func TestParseHostile(t *testing.T) {
	cases := []struct {
		name, page, cut string
	}{
		{"nested 100000 deep", strings.Repeat("<div><b>", 50000) + "deep" + strings.Repeat("</b></div>", 50000), "nested deeper than 64"},
		{"100000 elements", strings.Repeat("<p>x</p>", 100000), "cut after 50000 elements"},
		{"too long", "<p>" + strings.Repeat("a ", 400000), "longer than 524288 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			doc := Parse([]byte(c.page), nil, Limits{})
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Parse took %v", d)
			}
			if !strings.Contains(strings.Join(doc.Cuts, ";"), c.cut) {
				t.Errorf("Cuts = %q, want %q", doc.Cuts, c.cut)
			}
			pg := Layout(doc, 320, testFonts(t), nil, nil)
			if pg.Height <= 0 {
				t.Errorf("Height = %d", pg.Height)
			}
		})
	}
}

// TestHostStartPage fetches the lab service's start page through the
// WinInet client from a real HTTP server on loopback, decodes its PNG and
// GIF, follows a link with Tab and Enter, and checks pixels.
func TestHostStartPage(t *testing.T) {
	srv := httptest.NewServer(startpage.Handler())
	defer srv.Close()
	h, err := New(wininet.Config{}, Limits{}, testFonts(t), 480)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Open(ctx, srv.URL+startpage.Path); err != nil {
		t.Fatal(err)
	}
	t.Logf("start page: %+v, %dx%d", h.Timing, h.Page.Width, h.Page.Height)
	if len(h.Page.Doc.Cuts) != 0 {
		t.Errorf("Cuts = %v", h.Page.Doc.Cuts)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 480, 640))
	h.Draw(dst, dst.Bounds())
	// The logo PNG is drawn: find its first pixel colour somewhere.
	logo := startpage.Logo().(*image.RGBA)
	want := logo.RGBAAt(0, 0)
	found := false
	for y := 0; y < 640 && !found; y++ {
		for x := 0; x < 480; x++ {
			if dst.RGBAAt(x, y) == want && dst.RGBAAt(x+1, y) == logo.RGBAAt(1, 0) {
				found = true
				break
			}
		}
	}
	if !found {
		t.Errorf("logo PNG not drawn")
	}
	if h.Focus != 0 {
		t.Fatalf("Focus = %d, want the first link", h.Focus)
	}
	if err := h.HandleKey(ctx, KeyTab, 640); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleKey(ctx, KeyShiftTab, 640); err != nil {
		t.Fatal(err)
	}
	if err := h.HandleKey(ctx, KeyEnter, 640); err != nil {
		t.Fatal(err)
	}
	if h.Page.Doc.Title != "About" || !strings.HasSuffix(h.URL, "/about.html") {
		t.Errorf("after Enter: %q at %s, want About", h.Page.Doc.Title, h.URL)
	}
	if err := h.HandleKey(ctx, KeyBack, 640); err != nil {
		t.Fatal(err)
	}
	if h.Page.Doc.Title != ".NET Messenger Service" {
		t.Errorf("after Back: %q at %s, want the start page", h.Page.Doc.Title, h.URL)
	}
	if ok, err := h.Back(ctx); ok || err != nil {
		t.Errorf("Back at the first page = %v, %v; want false, nil", ok, err)
	}
	for i, p := range h.Pictures {
		if p.Err != "" || p.Width == 0 {
			t.Errorf("picture %d: %+v, want decoded", i, p)
		}
	}
	if len(h.Pictures) != 2 || h.Pictures[1].Format != "gif" || h.Pictures[1].Frames != 8 {
		t.Errorf("Pictures = %+v, want the PNG and the 8-frame GIF", h.Pictures)
	}
}

func TestHostRefusesAndCuts(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/big.png", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("\x89PNG\r\n\x1a\n" + strings.Repeat("x", 100)))
	})
	mux.HandleFunc("/many", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>")
		for i := 0; i < 40; i++ {
			fmt.Fprintf(w, `<img src="/big.png" alt="i%d">`, i)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>endless")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/pic", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h, err := New(wininet.Config{}, Limits{}, testFonts(t), 320)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Open(context.Background(), srv.URL+"/many"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(h.Page.Doc.Cuts, ";"); !strings.Contains(got, "8 images beyond the limit of 32") {
		t.Errorf("Cuts = %q", got)
	}
	if err := h.Open(context.Background(), srv.URL+"/pic"); err == nil || !strings.Contains(err.Error(), "not an HTML page") {
		t.Errorf("Open(image) = %v, want not an HTML page", err)
	}
	if err := h.Open(context.Background(), "file:///etc/passwd"); err == nil {
		t.Errorf("Open(file:) = nil, want an error")
	}
	// A page that never ends is given up at MaxTime; the pane keeps its page.
	slow := NewWithClient(srv.Client(), Limits{MaxTime: 300 * time.Millisecond}, testFonts(t), 320)
	start := time.Now()
	err = slow.Open(context.Background(), srv.URL+"/slow")
	if d := time.Since(start); err == nil || d > 3*time.Second || !errors.Is(err, ErrTooSlow) || !strings.Contains(err.Error(), "/slow not loaded within the 300ms limit") {
		t.Errorf("Open(endless page) = %v after %v, want an error naming the page within the 300 ms limit", err, d)
	}
	t.Logf("endless page: %v", err)
}

// BenchmarkPage200K is BenchmarkOpenDraw200K without the fetch: parse,
// layout and drawing of the first 640x480 screen.
func BenchmarkPage200K(b *testing.B) {
	page := page200K()
	fs := testFonts(b)
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	for range b.N {
		doc := Parse(page, nil, Limits{})
		pg := Layout(doc, 640, fs, nil, nil)
		pg.Draw(dst, dst.Bounds(), 0, 0)
	}
}

func FuzzParseLayout(f *testing.F) {
	f.Add([]byte(`<h1>x</h1><p>a <b>b</b> <a href="/y">c</a><img src="z.gif" alt="q"></p><table><tr><td>1<td>2</table>`))
	f.Add([]byte(`<ul><li><ol><li>日本語のテキストはスペースがありません</ol></ul><font color="#abc">x`))
	f.Add([]byte(strings.Repeat("<div>", 200)))
	fs := testFonts(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		doc := Parse(data, nil, Limits{MaxBytes: 1 << 14, MaxNodes: 2000, MaxDepth: 32})
		pg := Layout(doc, 200, fs, nil, nil)
		if pg.Height < 0 || len(pg.LinkBoxes) != len(doc.Links) {
			t.Fatalf("height %d, %d link boxes for %d links", pg.Height, len(pg.LinkBoxes), len(doc.Links))
		}
		dst := image.NewRGBA(image.Rect(0, 0, 200, 100))
		pg.Draw(dst, dst.Bounds(), 0, 0)
		if txt := doc.Text(100); len(txt) > 100 || (utf8.Valid(data) && !utf8.ValidString(txt)) {
			t.Fatalf("Text(100) = %q: longer than 100 bytes or not UTF-8", txt)
		}
	})
}

// page200K is a page of at least 200 KB in the subset: headings,
// paragraphs with bold, italic and links, lists and table rows.
func page200K() []byte {
	var sb strings.Builder
	sb.WriteString("<html><head><title>Big page</title></head><body><h1>Big page</h1>")
	for i := 0; sb.Len() < 200<<10; i++ {
		fmt.Fprintf(&sb, `<h3>Section %d</h3><p>Lorem ipsum <b>dolor</b> sit amet, <a href="x%d.html">consectetur</a> adipiscing elit, <i>sed do</i> eiusmod tempor.</p><ul><li>one</li><li>two</li></ul><table><tr><td>k%d</td><td>v</td></tr></table>`, i, i, i)
	}
	sb.WriteString("</body></html>")
	return []byte(sb.String())
}

// BenchmarkOpenDraw200K is a 200 KB page from the request to the first
// screen drawn: fetched through the WinInet client from a server on
// loopback, parsed, laid out 640 pixels wide and drawn into a 640x480
// pane. The target is 200 ms on the host.
func BenchmarkOpenDraw200K(b *testing.B) {
	page := page200K()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer srv.Close()
	h, err := New(wininet.Config{}, Limits{}, testFonts(b), 640)
	if err != nil {
		b.Fatal(err)
	}
	dst := image.NewRGBA(image.Rect(0, 0, 640, 480))
	ctx := context.Background()
	b.SetBytes(int64(len(page)))
	b.ResetTimer()
	var tm Timing
	for range b.N {
		if err := h.Open(ctx, srv.URL+"/"); err != nil {
			b.Fatal(err)
		}
		h.Draw(dst, dst.Bounds())
		tm.Fetch += h.Timing.Fetch
		tm.Parse += h.Timing.Parse
		tm.Layout += h.Timing.Layout
	}
	b.StopTimer()
	if len(h.Page.Doc.Cuts) > 0 {
		b.Fatalf("page cut: %v", h.Page.Doc.Cuts)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tm.Fetch.Microseconds())/n/1000, "fetch-ms")
	b.ReportMetric(float64(tm.Parse.Microseconds())/n/1000, "parse-ms")
	b.ReportMetric(float64(tm.Layout.Microseconds())/n/1000, "layout-ms")
}

// TestHostClick: a click on a link's text follows it; a click beside
// the links does nothing; a click honours the scroll position.
func TestHostClick(t *testing.T) {
	srv := httptest.NewServer(startpage.Handler())
	defer srv.Close()
	h, err := New(wininet.Config{}, Limits{}, testFonts(t), 480)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.Open(ctx, srv.URL+startpage.Path); err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Click(ctx, image.Pt(479, 0)); ok || err != nil {
		t.Fatalf("click at the top right corner = %v, %v; want no link", ok, err)
	}
	about := -1
	for i, l := range h.Page.Doc.Links {
		if strings.HasSuffix(l, "/about.html") {
			about = i
		}
	}
	if about < 0 || len(h.Page.LinkBoxes[about]) == 0 {
		t.Fatalf("the start page has no drawn link to about.html: %q", h.Page.Doc.Links)
	}
	b := h.Page.LinkBoxes[about][0]
	h.Scroll = 10
	p := image.Pt((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2-h.Scroll)
	if got := h.LinkAt(p); got != about {
		t.Fatalf("LinkAt(%v) with scroll 10 = %d, want %d (box %v)", p, got, about, b)
	}
	ok, err := h.Click(ctx, p)
	if !ok || err != nil {
		t.Fatalf("click on the About link = %v, %v", ok, err)
	}
	if h.Page.Doc.Title != "About" {
		t.Errorf("after the click: %q at %s, want About", h.Page.Doc.Title, h.URL)
	}
}

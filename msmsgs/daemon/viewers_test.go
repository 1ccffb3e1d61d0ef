//go:build sysgen_imaging && sysgen_imaging_gif_decode && sysgen_imaging_png_decode && sysgen_shdocvw

package daemon

// Run with the tags of the Messenger design:
//
//	go test -tags sysgen_imaging,sysgen_imaging_gif_decode,sysgen_imaging_png_decode,sysgen_shdocvw ./msmsgs/daemon

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/messengerd/startpage"
)

// TestViewers: picture decodes the start page's pictures from a URL and
// from a file; page lays out and draws the start page.
func TestViewers(t *testing.T) {
	srv := httptest.NewServer(startpage.Handler())
	defer srv.Close()
	d := newTestDaemon(t)
	ctx := t.Context()
	res, err := d.Execute(ctx, []string{"picture", srv.URL + startpage.Path + "wave.gif"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(PictureReport); r.Format != "gif" || r.Frames != 8 || r.Width != 32 || len(r.DelaysMS) != 8 || r.DelaysMS[0] != 120 {
		t.Errorf("picture wave.gif = %+v, want 8 frames of 32x32, 120 ms each", r)
	}
	// The same logo, from a file.
	resp, err := srv.Client().Get(srv.URL + startpage.Path + "logo.png")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "logo.png")
	out, _ := os.Create(f)
	if _, err := out.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	out.Close()
	if res, err = d.Execute(ctx, []string{"picture", f}, nil); err != nil {
		t.Fatal(err)
	}
	if r := res.(PictureReport); r.Format != "png" || r.Width != 96 || r.Height != 48 {
		t.Errorf("picture logo.png = %+v, want png 96x48", r)
	}
	for _, c := range []struct{ arg, want string }{
		{"logo.png", "give an absolute file path"},
		{"/no/such.png", "no such file"},
		{srv.URL + startpage.Path + "nothing.png", "404"},
	} {
		if _, err := d.Execute(ctx, []string{"picture", c.arg}, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("picture %s = %v, want %q", c.arg, err, c.want)
		}
	}

	res, err = d.Execute(ctx, []string{"page", "-width", "320", srv.URL + startpage.Path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := res.(PageReport)
	if p.Title != ".NET Messenger Service" || p.Width != 320 || p.Height < 300 || len(p.Links) != 2 || len(p.Pictures) != 2 || p.Ink < 1000 {
		t.Errorf("page = title %q %dx%d, %d links, %d pictures, ink %d", p.Title, p.Width, p.Height, len(p.Links), len(p.Pictures), p.Ink)
	}
	if !strings.Contains(p.Text, "Welcome to the .NET Messenger Service") {
		t.Errorf("page text = %q", p.Text)
	}
	if _, err := d.Execute(ctx, []string{"page", "-width", "9", srv.URL}, nil); err == nil || !strings.Contains(err.Error(), "PX from 64 to 4096") {
		t.Errorf("page -width 9 = %v, want a usage error", err)
	}
}

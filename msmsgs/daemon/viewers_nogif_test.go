//go:build sysgen_imaging && sysgen_imaging_png_decode && !sysgen_imaging_gif_decode

package daemon

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/oemkit/messenger/messengerd/startpage"
)

// TestViewersWithoutGIF: in a design without SYSGEN_IMAGING_GIF_DECODE,
// picture decodes PNG and refuses GIF naming the item to add.
func TestViewersWithoutGIF(t *testing.T) {
	srv := httptest.NewServer(startpage.Handler())
	defer srv.Close()
	d := newTestDaemon(t)
	res, err := d.Execute(t.Context(), []string{"picture", srv.URL + startpage.Path + "logo.png"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.(PictureReport); r.Format != "png" || strings.Join(r.Decoders, ",") != "png" {
		t.Errorf("picture logo.png = %+v, want png with only the png decoder", r)
	}
	_, err = d.Execute(t.Context(), []string{"picture", srv.URL + startpage.Path + "wave.gif"}, nil)
	if err == nil || !strings.Contains(err.Error(), "gif (add SYSGEN_IMAGING_GIF_DECODE to the OS design; this image decodes [png])") {
		t.Errorf("picture wave.gif = %v, want the GIF decoder named as missing", err)
	}
}

package startpage

import (
	"bytes"
	"image/gif"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler serves the pages and pictures with their types, and 404
// for anything else under Path.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	get := func(p string) (int, string, []byte) {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), b
	}
	for _, p := range []string{Path, Path + "index.html", Path + "about.html", Path + "help.html"} {
		code, ct, b := get(p)
		if code != 200 || !strings.HasPrefix(ct, "text/html") || !bytes.Contains(b, []byte("<title>")) {
			t.Errorf("GET %s = %d %s, %d bytes; want an HTML page", p, code, ct, len(b))
		}
	}
	code, ct, b := get(Path + "logo.png")
	if m, err := png.Decode(bytes.NewReader(b)); code != 200 || ct != "image/png" || err != nil || m.Bounds().Dx() != 96 {
		t.Errorf("GET logo.png = %d %s, %v", code, ct, err)
	}
	code, ct, b = get(Path + "wave.gif")
	if g, err := gif.DecodeAll(bytes.NewReader(b)); code != 200 || ct != "image/gif" || err != nil || len(g.Image) != 8 {
		t.Errorf("GET wave.gif = %d %s, %v", code, ct, err)
	}
	if code, _, _ := get(Path + "../etc/passwd"); code != 404 {
		t.Errorf("GET outside the pages = %d, want 404", code)
	}
	if code, _, _ := get(Path + "nothing.html"); code != 404 {
		t.Errorf("GET nothing.html = %d, want 404", code)
	}
}

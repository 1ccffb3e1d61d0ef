// Command pageshot draws a page with the browser control host, as the
// device's Messenger window shows it, into a PNG file: by default the lab
// service's start page (messengerd/startpage, served on loopback for the
// run), or any http(s) page with -url.
//
//	go run ./feature/browserhost/pageshot -o startpage.png [-url URL] [-width 480] [-font FILE]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/oemkit/messenger/feature/browserhost"
	"github.com/oemkit/messenger/feature/browserhost/fonts"
	_ "github.com/oemkit/messenger/feature/imaging/gif"
	_ "github.com/oemkit/messenger/feature/imaging/png"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/messengerd/startpage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pageshot:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pageshot", flag.ContinueOnError)
	out := fs.String("o", "", "PNG file to write (required)")
	raw := fs.String("url", "", "page to draw; empty: the lab start page, served on loopback")
	width := fs.Int("width", 480, "pane width in pixels (64 to 4096)")
	maxH := fs.Int("max-height", 4096, "cut the picture at this height")
	font := fs.String("font", fonts.DefaultFallback, "CJK fallback font (.ttf/.otf); empty: none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 || *width < 64 || *width > 4096 || *maxH < 1 {
		fs.Usage()
		return errors.New("usage: pageshot -o FILE.png [-url URL] [-width 64..4096]")
	}
	if *raw == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: startpage.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		*raw = "http://" + ln.Addr().String() + startpage.Path
	}
	set, err := fonts.New(*font)
	if set == nil {
		return err
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pageshot:", err, "(CJK text is drawn as boxes)")
	}
	h, err := browserhost.New(wininet.Config{}, browserhost.Limits{}, set, *width)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.Open(ctx, *raw); err != nil {
		return err
	}
	for _, p := range h.Pictures {
		if p.Err != "" {
			fmt.Fprintf(os.Stderr, "pageshot: picture %s not shown: %s\n", p.URL, p.Err)
		}
	}
	img := h.Render(*maxH)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(*out, b.Bytes(), 0o644); err != nil {
		return err
	}
	t := h.Timing
	fmt.Printf("%s: %q %dx%d, fetch %v, parse %v, pictures %v, layout %v\n", *out, h.Page.Doc.Title, img.Rect.Dx(), img.Rect.Dy(),
		t.Fetch.Round(time.Microsecond), t.Parse.Round(time.Microsecond), t.Images.Round(time.Microsecond), t.Layout.Round(time.Microsecond))
	return nil
}

// Package startpage is the lab service's start page: the page the
// Messenger window's browser pane shows after sign-in (HTML in the subset
// feature/browserhost renders, with a PNG and an animated GIF). messengerd
// serves it on its -http listener under Path.
package startpage

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"sync"
)

// Path is where the pages live on the -http listener.
const Path = "/start/"

const index = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>.NET Messenger Service</title>
<style>body { font-family: sans-serif }</style></head>
<body>
<h1>Welcome to the .NET Messenger Service</h1>
<p><img src="logo.png" alt="Messenger logo"> <img src="wave.gif" alt="waving"></p>
<p>You are signed in to the <b>lab service</b>. Your contacts see your status
as soon as you set it; <i>Appear Offline</i> hides you from everyone.</p>
<h2>Today</h2>
<ul>
<li>Send files of up to <b>2 GB</b> to any online contact.</li>
<li>Emoticons: type <font color="#c00000">:)</font> or <font color="#c00000">(Y)</font> in a conversation.</li>
<li>Voice calls need a microphone and speakers.</li>
</ul>
<h2>Service status</h2>
<table>
<tr><th>Service</th><th>State</th></tr>
<tr><td>Sign-in</td><td><span style="color:green">running</span></td></tr>
<tr><td>Switchboard</td><td><span style="color:green">running</span></td></tr>
<tr><td>Gateway</td><td><span style="color:#808080">idle</span></td></tr>
</table>
<p>日本語: ようこそ、メッセンジャーへ。</p>
<p><a href="about.html">About this service</a> · <a href="help.html">Help</a></p>
</body></html>
`

const about = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>About</title></head><body>
<h1>About</h1>
<p>This is the lab service of the OEM kit: dispatch, notification and
switchboard servers, Passport 1.4 login and the HTTP gateway.</p>
<ol><li>Sign in with a lab account.</li><li>Add contacts.</li><li>Talk.</li></ol>
<p><a href="index.html">Back to the start page</a></p>
</body></html>
`

const help = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Help</title></head><body>
<h1>Help</h1>
<p>Use <b>Tab</b> to move between links and <b>Enter</b> to follow one;
<b>Backspace</b> goes back.</p>
<p><a href="index.html">Back to the start page</a></p>
</body></html>
`

var (
	once      sync.Once
	logoPNG   []byte
	waveGIF   []byte
	imagesErr error
)

// Logo draws the start page's PNG: a 96x48 blue-green banner with a
// figure.
func Logo() image.Image {
	m := image.NewRGBA(image.Rect(0, 0, 96, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 96; x++ {
			c := color.RGBA{uint8(40 + x), uint8(120 + y*2), uint8(200 - x/2), 255}
			// Two figures: circles for heads, ellipses for bodies.
			for _, f := range []struct {
				cx, cy float64
				c      color.RGBA
			}{{30, 16, color.RGBA{0x2e, 0xa0, 0x3c, 255}}, {60, 18, color.RGBA{0x1e, 0x5a, 0xc8, 255}}} {
				dx, dy := float64(x)-f.cx, float64(y)-f.cy
				if dx*dx+dy*dy < 64 || (dx*dx/144+(dy-18)*(dy-18)/100 < 1) {
					c = f.c
				}
			}
			m.Set(x, y, c)
		}
	}
	return m
}

// Wave draws the start page's GIF: 8 frames of a dot circling.
func Wave() *gif.GIF {
	pal := color.Palette{color.White, color.RGBA{0xff, 0xa0, 0, 255}, color.RGBA{0x30, 0x30, 0x30, 255}}
	g := &gif.GIF{}
	for i := 0; i < 8; i++ {
		f := image.NewPaletted(image.Rect(0, 0, 32, 32), pal)
		a := float64(i) * math.Pi / 4
		cx, cy := 16+10*math.Cos(a), 16+10*math.Sin(a)
		for y := 0; y < 32; y++ {
			for x := 0; x < 32; x++ {
				dx, dy := float64(x)-cx, float64(y)-cy
				switch {
				case dx*dx+dy*dy < 16:
					f.SetColorIndex(x, y, 1)
				case x == 16 || y == 16:
					f.SetColorIndex(x, y, 2)
				}
			}
		}
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 12)
	}
	return g
}

func images() {
	var b bytes.Buffer
	if imagesErr = png.Encode(&b, Logo()); imagesErr != nil {
		return
	}
	logoPNG = bytes.Clone(b.Bytes())
	b.Reset()
	if imagesErr = gif.EncodeAll(&b, Wave()); imagesErr != nil {
		return
	}
	waveGIF = b.Bytes()
}

// Handler serves the start page under Path.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(images)
		if imagesErr != nil {
			http.Error(w, imagesErr.Error(), http.StatusInternalServerError)
			return
		}
		var body []byte
		ctype := "text/html; charset=utf-8"
		switch r.URL.Path {
		case Path, Path + "index.html":
			body = []byte(index)
		case Path + "about.html":
			body = []byte(about)
		case Path + "help.html":
			body = []byte(help)
		case Path + "logo.png":
			body, ctype = logoPNG, "image/png"
		case Path + "wave.gif":
			body, ctype = waveGIF, "image/gif"
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
}

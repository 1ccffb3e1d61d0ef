package window

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oemkit/messenger/drivers/display"
	"github.com/oemkit/messenger/drivers/input"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// FrameMarker starts the console line the window prints for each frame it
// draws after a change (not for animation ticks): JSON with the screen,
// the frame number, render and blit times, the uptime and the process RSS.
const FrameMarker = "WINDOW-FRAME"

// Options configure Run.
type Options struct {
	Ctl     string // the daemon's control socket
	Texts   Texts
	FB      string // framebuffer device, default /dev/fb0
	DevDir  string // where input/event* are, default /dev
	Font    string // extra TrueType/OpenType font file, "" for none
	Decoder Decoder
	Log     *slog.Logger
	Console io.Writer // where FrameMarker lines go; nil: none
	// StartPage is the start page URL (F5); Web is the HTTP client it is
	// fetched with (nil: WinInet without a proxy).
	StartPage string
	Web       *http.Client
}

// ctlCall sends one request to the daemon and returns its result.
func ctlCall(ctx context.Context, sock string, args ...string) (json.RawMessage, error) {
	conn, err := ctlproto.Dial(ctx, sock, args)
	if err != nil {
		return nil, fmt.Errorf("window: control socket %s: %w", sock, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req, _ := json.Marshal(ctlproto.Request{Args: args})
	if _, err := conn.Write(append(req, '\n')); err != nil {
		return nil, fmt.Errorf("window: %s: %w", args[0], err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), 4<<20)
	if !sc.Scan() {
		return nil, fmt.Errorf("window: %s: the daemon closed the connection without an answer", args[0])
	}
	var r ctlproto.RawReply
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("window: %s: bad reply: %w", args[0], err)
	}
	if !r.OK {
		return nil, errors.New(r.Error)
	}
	return r.Result, nil
}

// events streams the daemon's events (from the start of its history) to
// out, reconnecting when the stream ends, until ctx ends.
func events(ctx context.Context, sock string, out chan<- client.Event, log *slog.Logger) {
	since := int64(0)
	for ctx.Err() == nil {
		err := func() error {
			args := []string{"events", "-since", strconv.FormatInt(since, 10)}
			conn, err := ctlproto.Dial(ctx, sock, args)
			if err != nil {
				return err
			}
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			req, _ := json.Marshal(ctlproto.Request{Args: args})
			if _, err := conn.Write(append(req, '\n')); err != nil {
				return err
			}
			sc := bufio.NewScanner(conn)
			sc.Buffer(make([]byte, 0, 4096), 4<<20)
			for sc.Scan() {
				var r struct {
					OK    bool          `json:"ok"`
					Event *client.Event `json:"event"`
					Error string        `json:"error"`
				}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					return err
				}
				if !r.OK {
					return errors.New(r.Error)
				}
				if r.Event != nil {
					since = int64(r.Event.Seq)
					select {
					case out <- *r.Event:
					case <-ctx.Done():
						return nil
					}
				}
			}
			return sc.Err()
		}()
		if ctx.Err() != nil {
			return
		}
		log.Warn("window: event stream ended; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// keyF5 is F5's key code (linux/input-event-codes.h).
const keyF5 = 63

// keyFor maps an input press to a window key; shift says whether a Shift
// key is down (for Shift-Tab).
func keyFor(p input.Press, shift bool) (Key, bool) {
	switch p.Code {
	case keyF5:
		return Key{Code: KeyF5}, true
	case input.KeyUp:
		return Key{Code: KeyUp}, true
	case input.KeyDown:
		return Key{Code: KeyDown}, true
	case input.KeyEnter, input.KeyKPEnter:
		return Key{Code: KeyEnter}, true
	case input.KeyEsc:
		return Key{Code: KeyEsc}, true
	case input.KeyBackspace:
		return Key{Code: KeyBackspace}, true
	case input.KeyTab:
		if shift {
			return Key{Code: KeyShiftTab}, true
		}
		return Key{Code: KeyTab}, true
	case input.KeyPageUp:
		return Key{Code: KeyPageUp}, true
	case input.KeyPageDown:
		return Key{Code: KeyPageDown}, true
	case input.KeyF2:
		return Key{Code: KeyF2}, true
	case input.KeyF3:
		return Key{Code: KeyF3}, true
	case input.KeyF4:
		return Key{Code: KeyF4}, true
	case input.KeyF6:
		return Key{Code: KeyF6}, true
	case input.KeyF7:
		return Key{Code: KeyF7}, true
	case input.KeyF8:
		return Key{Code: KeyF8}, true
	}
	if p.Rune != 0 {
		return Key{Code: KeyRune, Rune: p.Rune}, true
	}
	return Key{}, false
}

// ScreenName names a screen in FrameMarker lines.
func ScreenName(m *Model) string {
	if m.StatusMenu {
		return "status-menu"
	}
	switch m.Screen {
	case ScreenContacts:
		return "contacts"
	case ScreenConversation:
		return "conversation"
	case ScreenStartPage:
		return "startpage"
	}
	return "signin"
}

func rssKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

func uptimeMS() int64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return -1
	}
	f, err := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	if err != nil {
		return -1
	}
	return int64(f * 1000)
}

// Run shows the window on the framebuffer and drives it from the
// keyboard and the daemon until ctx ends.
func Run(ctx context.Context, o Options) error {
	if o.FB == "" {
		o.FB = "/dev/fb0"
	}
	if o.DevDir == "" {
		o.DevDir = "/dev"
	}
	if o.Decoder == nil {
		o.Decoder = ImagingDecoder{}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	start := time.Now()
	// The pictures (emoticons, status icons) are decoded after the first
	// frame: until they arrive the window draws without them (the
	// sign-in screen has none), then redraws.
	var picsc chan *Pictures
	fb, err := display.Open(o.FB)
	if err != nil {
		return err
	}
	defer fb.Close()
	fbMS := ms(time.Since(start))
	fonts, err := LoadFonts(o.Font)
	if err != nil {
		return err
	}
	fontsMS := ms(time.Since(start)) - fbMS
	pics := &Pictures{}
	fallback := o.Font
	if fallback == "" {
		fallback = startPageFont
	}
	r := &Renderer{Fonts: fonts, Pics: pics, Text: o.Texts, Epoch: start, Voice: VoiceInDesign,
		Start: NewStartPage(o.Web, o.StartPage, fb.Size.X, fallback, fonts.Atlas())}
	img := image.NewRGBA(image.Rectangle{Max: fb.Size})
	m := NewModel("")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	evc := make(chan client.Event, 64)
	go events(ctx, o.Ctl, evc, o.Log)
	done := make(chan func(*Model), 16)
	call := func(args []string) {
		if args[0] == "signin" && m.Form != nil && len(args) == 2 {
			pw := string(m.Form.Password)
			go func() {
				res, err := signinCall(ctx, o.Ctl, args[1], pw)
				select {
				case done <- func(m *Model) { m.signinResult(res, err) }:
				case <-ctx.Done():
				}
			}()
			return
		}
		go func() {
			res, err := ctlCall(ctx, o.Ctl, args...)
			select {
			case done <- func(m *Model) { result(m, args, res, err, o.Log) }:
			case <-ctx.Done():
			}
		}()
	}
	call([]string{"status"})
	// The start page pane's work runs in order on one goroutine (the
	// browser host is not safe for concurrent use) and redraws when done.
	paneWork := make(chan func(), 8)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case f := <-paneWork:
				f()
				select {
				case done <- func(*Model) {}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	pane := func(f func()) {
		select {
		case paneWork <- f:
		default:
			o.Log.Warn("window: start page busy; key dropped")
		}
	}
	opened := 0
	var shift bool
	keys, devs, err := input.Open(ctx, o.DevDir)
	if err != nil {
		o.Log.Warn("window: no keyboard; the window only shows", "err", err)
	} else {
		o.Log.Info("window: reading input", "devices", devs)
	}
	var kb input.Keyboard
	var ptr image.Point // the tablet's pointer on the screen
	frame := 0
	dirty, animated := true, false
	var tick <-chan time.Time
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		if dirty {
			t0 := time.Now()
			animated = r.Render(img, m, t0)
			t1 := time.Now()
			if err := fb.Blit(img, img.Bounds()); err != nil {
				return err
			}
			frame++
			if o.Console != nil {
				fmt.Fprintf(o.Console, "%s {\"screen\":%q,\"frame\":%d,\"render_ms\":%.1f,\"blit_ms\":%.1f,\"uptime_ms\":%d,\"since_start_ms\":%d,\"rss_kb\":%d,\"width\":%d,\"height\":%d,\"fb_ms\":%.1f,\"fonts_ms\":%.1f}\n",
					FrameMarker, ScreenName(m), frame, ms(t1.Sub(t0)), ms(time.Since(t1)), uptimeMS(), time.Since(start).Milliseconds(), rssKB(), fb.Size.X, fb.Size.Y, fbMS, fontsMS)
			}
			if frame == 1 {
				picsc = make(chan *Pictures, 1)
				go func() { picsc <- LoadPictures(o.Decoder) }()
			}
			dirty = false
		}
		tick = nil
		if animated {
			tick = ticker.C
		}
		select {
		case <-ctx.Done():
			return nil
		case e := <-evc:
			for _, c := range m.Apply(e) {
				call(c)
			}
			dirty = true
		case f := <-done:
			f(m)
			dirty = true
		case p := <-picsc:
			picsc = nil
			for _, e := range p.Errors {
				o.Log.Warn("window: picture shown as text", "err", e)
			}
			r.Pics = p
			dirty = true
		case s, ok := <-keys:
			if !ok {
				keys = nil
				continue
			}
			switch {
			case s.Type == input.EvAbs && s.Code == input.AbsX:
				ptr.X = int(int64(s.Value) * int64(fb.Size.X) / (tabletMax + 1))
				continue
			case s.Type == input.EvAbs && s.Code == input.AbsY:
				ptr.Y = int(int64(s.Value) * int64(fb.Size.Y) / (tabletMax + 1))
				continue
			case s.Type == input.EvKey && s.Code == input.BtnLeft:
				if s.Value != 1 {
					continue
				}
				if i, ok := MenuAt(m, img.Bounds(), ptr); ok {
					for _, c := range m.MenuClick(i) {
						call(c)
					}
					dirty = true
					continue
				}
				if i, ok := r.ContactAt(m, img.Bounds(), ptr); ok {
					m.Click(i)
					dirty = true
				}
				if area := startPageArea(img.Bounds()); m.Screen == ScreenStartPage && !m.StatusMenu && ptr.In(area) {
					at := ptr.Sub(area.Min)
					pane(func() {
						if _, err := r.Start.Click(ctx, at); err != nil {
							o.Log.Warn("window: start page", "err", err)
						}
					})
				}
				continue
			}
			if s.Type == input.EvKey && (s.Code == input.KeyLeftShift || s.Code == input.KeyRightShft) {
				shift = s.Value != 0
			}
			p, ok := kb.Feed(s.Event)
			if !ok {
				continue
			}
			k, ok := keyFor(p, shift)
			if !ok {
				continue
			}
			dirty = true
			if m.Screen == ScreenStartPage && !m.StatusMenu && paneKey(k) {
				viewH := startPageArea(img.Bounds()).Dy()
				pane(func() {
					if _, err := r.Start.Key(ctx, k, viewH); err != nil {
						o.Log.Warn("window: start page", "err", err)
					}
				})
				continue
			}
			for _, c := range m.Key(k, time.Now()) {
				call(c)
			}
			if m.StartOpens != opened {
				opened = m.StartOpens
				pane(func() {
					if err := r.Start.Open(ctx); err != nil {
						o.Log.Warn("window: start page", "url", o.StartPage, "err", err)
					}
				})
			}
		case <-tick:
			animated = r.Render(img, m, time.Now())
			if err := fb.Blit(img, img.Bounds()); err != nil {
				return err
			}
		}
	}
}

// tabletMax is the largest absolute coordinate of QEMU's virtio and USB
// tablets (0..32767 on each axis).
const tabletMax = 0x7fff

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// result applies the answer to a ctl command.
func result(m *Model, args []string, res json.RawMessage, err error, log *slog.Logger) {
	switch args[0] {
	case "status":
		if err != nil {
			m.Error = err.Error()
			return
		}
		if len(args) > 1 {
			return
		}
		var in client.Info
		if json.Unmarshal(res, &in) == nil && in.State == StateNoAccount {
			// The daemon waits for a sign-in: show the form.
			if m.Form == nil {
				m.Form = &SignInForm{Account: []rune(m.Account)}
			}
			return
		}
		if json.Unmarshal(res, &in) == nil {
			m.Account, m.State, m.Error = in.Account, in.State, in.Error
			if in.Name != "" {
				m.Name = in.Name
			}
			if in.State == client.StateSignedIn {
				m.Status = in.Status
				if m.Screen == ScreenSignIn {
					m.Screen = ScreenContacts
				}
			}
		}
	case "contacts":
		var cs []client.Contact
		if err == nil && json.Unmarshal(res, &cs) == nil {
			m.SetContacts(cs)
		}
	case "call", "answer", "decline", "hangup", "mute":
		var r struct {
			Call string `json:"call"`
		}
		if err == nil {
			json.Unmarshal(res, &r)
		}
		m.callResult(args, r.Call, err)
	case "send":
		if err != nil && len(args) > 1 {
			m.Conv(args[1]).add(Line{Notice: true, Text: err.Error(), Time: time.Now()})
		}
	default:
		if err != nil {
			log.Warn("window: command failed", "cmd", args[0], "err", err)
		}
	}
}

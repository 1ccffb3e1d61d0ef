package window_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/browserhost"
	"github.com/oemkit/messenger/feature/browserhost/fonts"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/msmsgs/window"
	"github.com/oemkit/messenger/sysgen/cli"
)

var qemuScreens = flag.String("qemu-screens", "", "write the QEMU screen dumps as PNG into this `dir` (docs/screens)")

const (
	deviceAccount = "alice@lab.test"
	hostAccount   = "bob@lab.test"
	devicePass    = "device pass 1"
	hostPass      = "host-pass-2"
)

// goBuild builds a command of the project into dir.
func goBuild(t *testing.T, root, dir, pkg string) string {
	t.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	c := exec.Command("go", "build", "-o", out, "./"+pkg)
	c.Dir = root
	if b, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

type labInfo struct {
	Addr  string `json:"addr"`
	Guest string `json:"guest"`
	HTTPS string `json:"https"`
	HTTP  string `json:"http"`
	Nexus string `json:"nexus"`
	CA    string `json:"ca"`
}

// startLab runs messengerd with both accounts on loopback.
func startLab(t *testing.T, bin string) labInfo {
	t.Helper()
	data := t.TempDir()
	for acct, pass := range map[string]string{deviceAccount: devicePass, hostAccount: hostPass} {
		c := exec.Command(filepath.Join(bin, "messengerd"), "user", "add", "-data", data, acct)
		c.Stdin = strings.NewReader(pass + "\n")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("messengerd user add %s: %v\n%s", acct, err, out)
		}
	}
	c := exec.Command(filepath.Join(bin, "messengerd"), "serve", "-data", data,
		"-addr", "127.0.0.1:0", "-guest-addr", "127.0.0.1:0", "-https", "127.0.0.1:0", "-http", "127.0.0.1:0")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	stdout, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var lab labInfo
	if err != nil || json.Unmarshal([]byte(line), &lab) != nil || lab.Guest == "" {
		t.Fatalf("messengerd ready line %q: %v\n%s", line, err, stderr.String())
	}
	return lab
}

// hostClient runs bob's msmsgs daemon on the host and returns a ctl func.
func hostClient(t *testing.T, bin string, lab labInfo) func(args ...string) (string, error) {
	t.Helper()
	state := t.TempDir()
	cfg, _ := json.Marshal(map[string]any{"msmsgs.server": lab.Addr, "msmsgs.nexus": lab.Nexus, "msmsgs.account": hostAccount,
		"msmsgs.ca_file": lab.CA, "msmsgs.state_dir": state})
	cfgFile := filepath.Join(state, "settings.json")
	os.WriteFile(cfgFile, cfg, 0o600)
	sock := filepath.Join(state, "ctl.sock")
	var logb bytes.Buffer
	c := exec.Command(filepath.Join(bin, "msmsgs"), "daemon", "-config", cfgFile, "-ctl", sock)
	c.Env = append(os.Environ(), "MSMSGS_PASSWORD="+hostPass)
	c.Stdout, c.Stderr = &logb, &logb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	ctl := func(args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(bin, "msmsgs"), append([]string{"ctl", "-ctl", sock}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("host msmsgs ctl %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	if _, err := ctl("wait-signin", "-timeout", "60s"); err != nil {
		t.Fatalf("%v\n%s", err, logb.String())
	}
	if _, err := ctl("add", deviceAccount); err != nil {
		t.Fatal(err)
	}
	return ctl
}

// frame is a WINDOW-FRAME line.
type frame struct {
	Screen   string  `json:"screen"`
	Frame    int     `json:"frame"`
	RenderMS float64 `json:"render_ms"`
	BlitMS   float64 `json:"blit_ms"`
	UptimeMS int64   `json:"uptime_ms"`
	RSSKB    int64   `json:"rss_kb"`
	SinceMS  int64   `json:"since_start_ms"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	FBMS     float64 `json:"fb_ms"`    // framebuffer opened, after the window's start
	FontsMS  float64 `json:"fonts_ms"` // fonts and glyph atlas loaded
}

func waitFrame(ctx context.Context, t *testing.T, vm *qemu.VM, screen string, timeout time.Duration) frame {
	t.Helper()
	re := regexp.MustCompile(window.FrameMarker + ` (\{[^\n]*"screen":"` + screen + `"[^\n]*\})`)
	m, err := vm.Expect(ctx, re, timeout)
	if err != nil {
		t.Fatalf("no %s frame of the %s screen: %v\nconsole tail:\n%s", window.FrameMarker, screen, err, qemu.Tail(vm.Console(), 60))
	}
	var f frame
	if err := json.Unmarshal([]byte(m[1]), &f); err != nil {
		t.Fatalf("%s line %q: %v", window.FrameMarker, m[1], err)
	}
	return f
}

// count returns how many pixels of img inside r are within 24 of c.
func count(img *image.RGBA, r image.Rectangle, c color.RGBA) int {
	n := 0
	r = r.Intersect(img.Bounds())
	near := func(a, b uint8) bool { return int(a)+24 >= int(b) && int(b)+24 >= int(a) }
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := img.RGBAAt(x, y)
			if near(p.R, c.R) && near(p.G, c.G) && near(p.B, c.B) {
				n++
			}
		}
	}
	return n
}

func saveScreen(t *testing.T, name string, img *image.RGBA) {
	t.Helper()
	if *qemuScreens == "" {
		return
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	os.MkdirAll(*qemuScreens, 0o755)
	if err := fsutil.WriteFileAtomic(filepath.Join(*qemuScreens, name+".png"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestQEMUWindow builds the Messenger image with the window, boots it
// under TCG with the lab service and a second Messenger client (bob) on
// the host, and checks the window through the display: the contact list
// after sign-in, two tablet clicks on bob's row opening his conversation,
// his message with emoticons shown in it,
// text typed on the guest keyboard (QMP send-key) reaching bob, and the
// screen dumps showing the title bar, the status icons, the emoticons and
// the compose box where the layout puts them.
func TestQEMUWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and boots a real image; skipped in -short mode")
	}
	if _, err := os.Stat("/usr/bin/apt-get"); err != nil {
		testenv.Missing(t, "needs apt-get and dpkg-deb to fetch the Debian kernel (a Debian host)")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	root, _ := filepath.Abs("../..")
	bin := t.TempDir()
	goBuild(t, root, bin, "messengerd")
	goBuild(t, root, bin, "msmsgs")
	lab := startLab(t, bin)
	bob := hostClient(t, bin, lab)

	work := t.TempDir()
	_, guestPort, _ := net.SplitHostPort(lab.Guest)
	_, httpsPort, _ := net.SplitHostPort(lab.HTTPS)
	_, httpPort, _ := net.SplitHostPort(lab.HTTP)
	design := filepath.Join(work, "osdesign.toml")
	os.WriteFile(design, []byte(fmt.Sprintf(`bsp = "qemu-x86_64"
locales = ["en-US"]
certificates = [%q]
[flags]
SYSGEN_MESSENGER = true
SYSGEN_MESSENGER_WINDOW = true
SYSGEN_SHELL = true
SYSGEN_SHDOCVW = true
SYSGEN_WININET = true
SYSGEN_IMAGING = true
[settings]
"msmsgs.server" = "10.0.2.2:%s"
"msmsgs.nexus" = "https://10.0.2.2:%s/rdr/pprdr.asp"
"msmsgs.account" = %q
"msmsgs.password" = %q
"msmsgs.ca_file" = "/etc/ssl/certs/device/ca.pem"
"window.start_page" = "http://10.0.2.2:%s/start/"
`, lab.CA, guestPort, httpsPort, deviceAccount, devicePass, httpPort)), 0o600)
	dir := filepath.Join(work, "img")
	var out, errb bytes.Buffer
	c := &cli.Context{Args: []string{"build", "--design", design, "-o", dir}, Dir: root, Stdout: &out, Stderr: &errb}
	if err := c.Execute(ctx); err != nil {
		t.Fatalf("sysgen build: %v\n%s", err, errb.String())
	}
	t.Logf("build: %s", strings.TrimSpace(out.String()))

	sock := filepath.Join(work, "qmp.sock")
	vm, err := qemu.Start(ctx, dir, qemu.Options{ExtraArgs: qemu.MonitorArgs(sock)})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Kill()
	mon, err := qemu.DialMonitor(ctx, sock, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	ready, err := vm.WaitMarker(ctx, qemu.MarkerReady, 5*time.Minute)
	if err != nil {
		t.Fatalf("%v\n%s", err, qemu.Tail(vm.Console(), 60))
	}
	var rep struct {
		UptimeMS int64 `json:"uptime_ms"`
	}
	json.Unmarshal([]byte(ready.Payload), &rep)
	first := waitFrame(ctx, t, vm, "(signin|contacts)", 3*time.Minute)
	t.Logf("MEASURE first frame (%s, %dx%d): %d ms after DEVICE-READY (guest uptime %d -> %d ms), window start to frame %d ms (framebuffer %.1f ms, fonts %.1f ms, render %.1f ms, blit %.1f ms)",
		first.Screen, first.Width, first.Height, first.UptimeMS-rep.UptimeMS, rep.UptimeMS, first.UptimeMS, first.SinceMS, first.FBMS, first.FontsMS, first.RenderMS, first.BlitMS)

	// The device adds bob; the window shows him online.
	if o, rc, err := vm.Run(ctx, "msmsgs ctl wait-signin -timeout 120s && msmsgs ctl add "+hostAccount, 3*time.Minute); err != nil || rc != 0 {
		t.Fatalf("device: msmsgs ctl add: rc %d, %v: %s", rc, err, o)
	}
	if _, err := bob("wait", "-timeout", "60s", "-since", "0", "presence", "account="+deviceAccount); err != nil {
		t.Logf("bob saw no presence of the device yet: %v", err)
	}
	var contacts *image.RGBA
	deadline := time.Now().Add(2 * time.Minute)
	for {
		img, err := mon.ScreenDump(filepath.Join(work, "contacts.ppm"))
		if err != nil {
			t.Fatal(err)
		}
		// Bob's row: a green (online) status icon below the header.
		if count(img, image.Rect(0, 68, 60, 140), color.RGBA{46, 170, 60, 255}) > 20 {
			contacts = img
			break
		}
		if time.Now().After(deadline) {
			saveScreen(t, "qemu-contacts-failed", img)
			t.Fatalf("no online contact row on the screen after 2 minutes\nconsole tail:\n%s", qemu.Tail(vm.Console(), 40))
		}
		time.Sleep(2 * time.Second)
	}
	saveScreen(t, "qemu-contacts", contacts)
	if n := count(contacts, image.Rect(0, 0, contacts.Bounds().Dx(), 24), color.RGBA{10, 36, 106, 255}); n < contacts.Bounds().Dx()*24/2 {
		t.Errorf("title bar: %d pixels of the title colour in the top 24 rows, want most of them", n)
	}
	if n := count(contacts, image.Rect(0, 0, contacts.Bounds().Dx(), 24), color.RGBA{255, 255, 255, 255}); n < 50 {
		t.Errorf("title bar: %d white (text) pixels, want the title drawn", n)
	}

	// Two clicks of the tablet on bob's row (the first below the
	// "Online (1)" heading) open his conversation.
	for i := 0; i < 2; i++ {
		if err := mon.Click(ctx, 100, 24+44+4+22+10, contacts.Bounds().Dx(), contacts.Bounds().Dy()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
	}
	waitFrame(ctx, t, vm, "conversation", 2*time.Minute)
	// Bob writes with emoticons.
	if _, err := bob("send", deviceAccount, "hello from the host :) (Y) (H)"); err != nil {
		t.Fatal(err)
	}
	// Typed on the guest's keyboard, sent with Enter.
	if err := mon.SendKeys(ctx, "hi bob :D\n"); err != nil {
		t.Fatal(err)
	}
	if o, err := bob("wait", "-timeout", "120s", "-since", "0", "message", "account="+deviceAccount, "text=hi bob :D"); err != nil {
		t.Fatalf("bob did not get the typed message: %v\n%s\nconsole tail:\n%s", err, o, qemu.Tail(vm.Console(), 40))
	}
	time.Sleep(2 * time.Second)
	conv, err := mon.ScreenDump(filepath.Join(work, "conv.ppm"))
	if err != nil {
		t.Fatal(err)
	}
	saveScreen(t, "qemu-conversation", conv)
	b := conv.Bounds()
	hist := image.Rect(0, 52, b.Dx(), b.Dy()-90)
	if n := count(conv, hist, color.RGBA{255, 214, 0, 255}); n < 3*80 {
		t.Errorf("conversation: %d emoticon-yellow pixels in the history, want the smile, the hot face and the grin (> 240)", n)
	}
	if n := count(conv, hist, color.RGBA{240, 190, 140, 255}); n < 20 {
		t.Errorf("conversation: %d thumbs-up pixels in the history, want the (Y) emoticon", n)
	}
	if n := count(conv, image.Rect(0, b.Dy()-72, b.Dx(), b.Dy()-20), color.RGBA{49, 106, 197, 255}); n < b.Dx() {
		t.Errorf("conversation: %d compose-box border pixels, want the box above the hint bar", n)
	}
	last := waitFrame(ctx, t, vm, "conversation", time.Minute)
	t.Logf("MEASURE window in the msmsgs process: RSS %d KB at frame %d; render %.1f ms, blit %.1f ms (%dx%d, TCG)",
		last.RSSKB, last.Frame, last.RenderMS, last.BlitMS, last.Width, last.Height)

	// F5 shows the lab service's start page (messengerd -http /start/)
	// through the browser control host, fetched by the daemon's WinInet.
	t0 := time.Now()
	if err := mon.SendKey(ctx, "f5"); err != nil {
		t.Fatal(err)
	}
	waitFrame(ctx, t, vm, "startpage", time.Minute)
	var page *image.RGBA
	deadline = time.Now().Add(90 * time.Second)
	for {
		img, err := mon.ScreenDump(filepath.Join(work, "start.ppm"))
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		// The page's first heading: black text across the pane's top.
		if count(img, image.Rect(0, 24, b.Dx(), 100), color.RGBA{0, 0, 0, 255}) > 300 {
			page = img
			break
		}
		if time.Now().After(deadline) {
			saveScreen(t, "qemu-startpage-failed", img)
			t.Fatalf("no start page in the pane after 90 s\nconsole tail:\n%s", qemu.Tail(vm.Console(), 40))
		}
		time.Sleep(2 * time.Second)
	}
	t.Logf("MEASURE start page shown %d ms after F5 (screen dumps every 2 s)", time.Since(t0).Milliseconds())
	saveScreen(t, "qemu-startpage", page)
	if n := count(page, image.Rect(0, 0, page.Bounds().Dx(), 24), color.RGBA{10, 36, 106, 255}); n < page.Bounds().Dx()*24/2 {
		t.Errorf("start page title bar: %d pixels of the title colour, want most of the top 24 rows", n)
	}

	// A tablet click on the page's Help link follows it: the host lays
	// the same page out at the screen's width (the device draws Latin
	// text with the same Go fonts) to find where the link is drawn.
	fs, _ := fonts.New("")
	h := browserhost.NewWithClient(http.DefaultClient, browserhost.Limits{}, fs, page.Bounds().Dx())
	if err := h.Open(ctx, "http://"+lab.HTTP+"/start/"); err != nil {
		t.Fatal(err)
	}
	help := -1
	for i, l := range h.Page.Doc.Links {
		if strings.HasSuffix(l, "help.html") && len(h.Page.LinkBoxes[i]) > 0 {
			help = i
		}
	}
	if help < 0 {
		t.Fatalf("the start page has no Help link: %q", h.Page.Doc.Links)
	}
	lb := h.Page.LinkBoxes[help][0]
	cx, cy := (lb.Min.X+lb.Max.X)/2, 24+(lb.Min.Y+lb.Max.Y)/2
	if err := mon.Click(ctx, cx, cy, page.Bounds().Dx(), page.Bounds().Dy()); err != nil {
		t.Fatal(err)
	}
	pane := image.Rect(0, 24, page.Bounds().Dx(), page.Bounds().Dy()-20)
	deadline = time.Now().Add(90 * time.Second)
	for {
		img, err := mon.ScreenDump(filepath.Join(work, "help.ppm"))
		if err != nil {
			t.Fatal(err)
		}
		if n := differ(img, page, pane); n > 2000 {
			t.Logf("the click at (%d,%d) on the Help link changed %d pixels of the pane", cx, cy, n)
			saveScreen(t, "qemu-startpage-help", img)
			break
		}
		if time.Now().After(deadline) {
			saveScreen(t, "qemu-startpage-click-failed", img)
			t.Fatalf("a click on the Help link at (%d,%d) did not change the page in 90 s\nconsole tail:\n%s", cx, cy, qemu.Tail(vm.Console(), 40))
		}
		time.Sleep(2 * time.Second)
	}
}

// differ counts the pixels inside r where a and b differ.
func differ(a, b *image.RGBA, r image.Rectangle) int {
	n := 0
	r = r.Intersect(a.Bounds()).Intersect(b.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				n++
			}
		}
	}
	return n
}

package window

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

var (
	update  = flag.Bool("update", false, "rewrite the golden images in testdata")
	screens = flag.String("screens", "", "also write the screenshots into this `dir` (docs/screens)")
)

var epoch = time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)

func texts(t testing.TB, locale string) Texts {
	t.Helper()
	c := msgslang.Load("../../msgslang/locales", locale, msgslang.Options{})
	if c.Locale() != locale {
		t.Fatalf("locale %s not loaded (got %s)", locale, c.Locale())
	}
	return c.Text
}

func renderer(t testing.TB, locale string) *Renderer {
	t.Helper()
	fs, err := LoadFonts("")
	if err != nil {
		t.Fatal(err)
	}
	p := LoadPictures(ImagingDecoder{})
	if len(p.Errors) > 0 {
		t.Fatalf("built-in pictures: %v", p.Errors)
	}
	return &Renderer{Fonts: fs, Pics: p, Text: texts(t, locale), Epoch: epoch}
}

// signedIn returns a model signed in with a few contacts in every group.
func signedIn() *Model {
	m := NewModel("alice@lab.example")
	m.Apply(client.Event{Type: client.EventSignedIn, Name: "Alice", Status: "NLN"})
	m.SetContacts([]client.Contact{
		{Account: "bob@lab.example", Name: "Bob", Status: msnp.StatusOnline, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "carol@lab.example", Name: "Carol", Status: msnp.StatusBusy, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "dave@lab.example", Name: "Dave (desk phone)", Status: msnp.StatusOnThePhone, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "erin@lab.example", Name: "Erin", Status: msnp.StatusAway, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "frank@lab.example", Name: "Frank", Status: msnp.StatusBeRightBack, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "grace@lab.example", Name: "Grace", Status: msnp.StatusOnline, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "heidi@lab.example", Name: "Heidi", Status: msnp.StatusOffline, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "ivan@lab.example", Name: "", Status: msnp.StatusOffline, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "yuki@lab.example", Name: "ゆき", Status: msnp.StatusOnline, Lists: []msnp.List{msnp.ForwardList}},
		{Account: "rl-only@lab.example", Name: "Not a contact", Status: msnp.StatusOnline, Lists: []msnp.List{msnp.ReverseList}},
	})
	return m
}

// chatting returns signedIn with a conversation with Bob open.
func chatting() *Model {
	m := signedIn()
	at := epoch.Add(-time.Minute)
	m.Apply(client.Event{Type: client.EventMessage, Account: "bob@lab.example", Text: "Hi Alice :) did the build pass?", Time: at})
	m.Key(Key{Code: KeyEsc}, at)
	m.Selected = 0
	m.Key(Key{Code: KeyEnter}, at)
	for _, r := range "Yes (Y) all green (H)" {
		m.Key(Key{Code: KeyRune, Rune: r}, at)
	}
	m.Key(Key{Code: KeyEnter}, at)
	m.Apply(client.Event{Type: client.EventMessage, Account: "bob@lab.example", Text: "Great :D but the flaky test is back :( I will send the log", Time: at})
	m.Apply(client.Event{Type: "ft-offer", Account: "bob@lab.example", Cookie: 42, File: "build.log", Size: 180 << 10})
	m.Key(Key{Code: KeyF3}, at)
	m.Apply(client.Event{Type: "ft-progress", Cookie: 42, Bytes: 120 << 10, Total: 180 << 10})
	m.Apply(client.Event{Type: client.EventTyping, Account: "bob@lab.example", Time: epoch.Add(-time.Second)})
	for _, r := range "Thanks ;)" {
		m.Key(Key{Code: KeyRune, Rune: r}, epoch)
	}
	return m
}

// golden compares img with testdata/NAME.png within a tolerance: at most
// 0.5% of the pixels may differ by more than 48 in a channel (font
// rasterizers differ slightly between x/image versions).
func golden(t *testing.T, name string, img *image.RGBA) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".png")
	if *screens != "" {
		if err := os.MkdirAll(*screens, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(*screens, name+".png"), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if *update {
		if err := fsutil.WriteFileAtomic(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./msmsgs/window -run %s -update to create it)", err, t.Name())
	}
	want, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if n, frac := diffPixels(want, img); frac > 0.005 {
		got := filepath.Join(t.TempDir(), name+".png")
		os.WriteFile(got, buf.Bytes(), 0o644)
		t.Errorf("%s: %d pixels (%.2f%%) differ from %s; got %s (run with -update if the change is intended)", name, n, 100*frac, path, got)
	}
}

func diffPixels(a, b image.Image) (int, float64) {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy(), 1
	}
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			if absDiff(r1, r2) > 48<<8 || absDiff(g1, g2) > 48<<8 || absDiff(b1, b2) > 48<<8 {
				n++
			}
		}
	}
	return n, float64(n) / float64(r.Dx()*r.Dy())
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func TestScreens(t *testing.T) {
	for _, tc := range []struct {
		name, locale string
		model        func() *Model
	}{
		{"signin", "en-US", func() *Model { return NewModel("alice@lab.example") }},
		{"contacts", "en-US", signedIn},
		{"contacts-ja", "ja-JP", signedIn},
		{"contacts-de", "de-DE", signedIn},
		{"conversation", "en-US", chatting},
		{"conversation-ja", "ja-JP", chatting},
		{"status-menu", "en-US", func() *Model {
			m := signedIn()
			m.Key(Key{Code: KeyF2}, epoch)
			m.Key(Key{Code: KeyDown}, epoch)
			return m
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := renderer(t, tc.locale)
			img := image.NewRGBA(image.Rect(0, 0, 480, 640))
			r.Render(img, tc.model(), epoch)
			golden(t, tc.name, img)
		})
	}
}

func BenchmarkContactList100(b *testing.B) {
	r := renderer(b, "en-US")
	m := NewModel("alice@lab.example")
	m.Apply(client.Event{Type: client.EventSignedIn, Name: "Alice", Status: "NLN"})
	var cs []client.Contact
	for i := 0; i < 100; i++ {
		cs = append(cs, client.Contact{Account: fmt.Sprintf("user%03d@lab.example", i), Name: fmt.Sprintf("Contact number %d", i),
			Status: msnp.Statuses[i%len(msnp.Statuses)], Lists: []msnp.List{msnp.ForwardList}})
	}
	m.SetContacts(cs)
	img := image.NewRGBA(image.Rect(0, 0, 1024, 768))
	r.Render(img, m, epoch) // warm the glyph cache, as the device's first frame does
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Selected = i % 100
		r.Render(img, m, epoch)
	}
}

func messageEvent(from, text string) client.Event {
	return client.Event{Type: client.EventMessage, Account: from, Text: text, Time: epoch}
}

// TestKeyboardFlow drives the model through the keys a user presses and
// checks the ctl commands it sends.
func TestKeyboardFlow(t *testing.T) {
	m := signedIn()
	var sent [][]string
	press := func(k Key) { sent = append(sent, m.Key(k, epoch)...) }
	press(Key{Code: KeyDown})
	if got := m.Rows()[m.Selected].Account; got != "grace@lab.example" {
		t.Fatalf("after Down the selection is %s, want grace (second online)", got)
	}
	press(Key{Code: KeyEnter})
	if m.Screen != ScreenConversation || m.Peer != "grace@lab.example" {
		t.Fatalf("Enter opened %v %s, want grace's conversation", m.Screen, m.Peer)
	}
	for _, r := range "hi" {
		press(Key{Code: KeyRune, Rune: r})
	}
	press(Key{Code: KeyEnter})
	press(Key{Code: KeyEsc})
	press(Key{Code: KeyF2})
	press(Key{Code: KeyDown})
	press(Key{Code: KeyEnter})
	want := [][]string{{"typing", "grace@lab.example"}, {"send", "grace@lab.example", "hi"}, {"status", "set", "busy"}}
	if len(sent) != len(want) {
		t.Fatalf("sent %q, want %q", sent, want)
	}
	for i := range want {
		if strings.Join(sent[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("command %d = %q, want %q", i, sent[i], want[i])
		}
	}
	if m.Screen != ScreenContacts || m.StatusMenu {
		t.Errorf("after Esc and the status menu: screen %v, menu %v; want the contact list", m.Screen, m.StatusMenu)
	}
}

func TestPointerOpensContact(t *testing.T) {
	r := renderer(t, "en-US")
	m := signedIn()
	b := image.Rect(0, 0, 480, 640)
	// Rows start below the title, header and the first group heading:
	// 24 + 44 + 4 + 22; Grace is the second row.
	p := image.Pt(100, 24+44+4+22+20+10)
	i, ok := r.ContactAt(m, b, p)
	if !ok || m.Rows()[i].Account != "grace@lab.example" {
		t.Fatalf("ContactAt(%v) = %d, %v, want grace's row", p, i, ok)
	}
	m.Click(i)
	m.Click(i)
	if m.Screen != ScreenConversation || m.Peer != "grace@lab.example" {
		t.Errorf("two clicks: screen %v peer %s, want grace's conversation", m.Screen, m.Peer)
	}
	if _, ok := r.ContactAt(m, b, image.Pt(10, 5)); ok {
		t.Errorf("ContactAt(title bar) found a row")
	}
}

// TestWindowMemory measures what the window keeps on the Go heap with
// 100 contacts and a conversation drawn at 1024x768: fonts, glyph caches,
// pictures, the frame. The device's figure (the msmsgs process with the
// window, as RSS) comes from TestQEMUWindow.
func TestWindowMemory(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := renderer(t, "ja-JP")
	m := NewModel("alice@lab.example")
	m.Apply(client.Event{Type: client.EventSignedIn, Name: "Alice", Status: "NLN"})
	var cs []client.Contact
	for i := 0; i < 100; i++ {
		cs = append(cs, client.Contact{Account: fmt.Sprintf("user%03d@lab.example", i), Name: fmt.Sprintf("連絡先 %d", i),
			Status: msnp.Statuses[i%len(msnp.Statuses)], Lists: []msnp.List{msnp.ForwardList}})
	}
	m.SetContacts(cs)
	img := image.NewRGBA(image.Rect(0, 0, 1024, 768))
	r.Render(img, m, epoch)
	for i := 0; i < MaxHistory; i++ {
		m.Apply(messageEvent("user001@lab.example", fmt.Sprintf("message %d :) (Y) オンライン", i)))
	}
	r.Render(img, m, epoch)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapInuse) - int64(before.HeapInuse)
	t.Logf("MEASURE window heap: %.1f MiB in use (100 contacts, %d-line conversation, 1024x768 frame of %.1f MiB)",
		float64(heap)/(1<<20), MaxHistory, float64(len(img.Pix))/(1<<20))
	if heap > 30<<20 {
		t.Errorf("window heap %d MiB, want < 30 MiB", heap>>20)
	}
	runtime.KeepAlive(r)
	runtime.KeepAlive(m)
}

// TestPointerSetsStatus: with the status menu open (F2), a click on an
// entry sets that status; a click on the menu's heading does nothing.
func TestPointerSetsStatus(t *testing.T) {
	m := signedIn()
	b := image.Rect(0, 0, 480, 640)
	m.Key(Key{Code: KeyF2}, epoch)
	top := statusMenuRect(b).Min.Y
	if _, ok := MenuAt(m, b, image.Pt(40, top+10)); ok {
		t.Error("a click on the menu's heading picked an entry")
	}
	i, ok := MenuAt(m, b, image.Pt(40, top+26+3*rowH+5)) // the fourth entry: away
	if !ok || SettableStatuses[i].Word != "away" {
		t.Fatalf("MenuAt(fourth row) = %d, %v; want away", i, ok)
	}
	got := m.MenuClick(i)
	if len(got) != 1 || strings.Join(got[0], " ") != "status set away" || m.StatusMenu {
		t.Errorf("click on away sent %q (menu open %v), want status set away and the menu closed", got, m.StatusMenu)
	}
	if _, ok := MenuAt(m, b, image.Pt(40, top+30)); ok {
		t.Error("MenuAt found an entry with the menu closed")
	}
}

package msnftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTransferSizes(t *testing.T) {
	for _, size := range []int64{0, 1, MaxBlock - 1, MaxBlock, MaxBlock + 1, 3*MaxBlock + 7, bufSize + 1, 20 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			src, sum := testFile(t, t.TempDir(), size)
			dir := t.TempDir()
			sev, rev := newEvents(), newEvents()
			s := newSender(freePorts(t, 1))
			s.Notify = sev.notify
			r := rcvIn(dir)
			r.Notify = rev.notify
			res, serr := transfer(t, ctx, s, r, src, "data.bin")
			if res.err != nil || serr != nil {
				t.Fatalf("transfer(%d bytes) = receiver %v, sender %v; want nil, nil", size, res.err, serr)
			}
			if want := filepath.Join(dir, "data.bin"); res.path != want {
				t.Errorf("Receive path = %q, want %q", res.path, want)
			}
			if got := fileSHA(t, res.path); got != sum {
				t.Errorf("sha256 of received file = %s, want %s", got, sum)
			}
			if diff := cmp.Diff([]string{"data.bin"}, dirNames(t, dir)); diff != "" {
				t.Errorf("downloads folder (-want +got):\n%s", diff)
			}
			for name, evs := range map[string][]Event{"sender": sev.all(), "receiver": rev.all()} {
				var last int64 = -1
				var kinds []EventKind
				for _, e := range evs {
					if e.Kind == EventProgress {
						if e.Bytes <= last || e.Bytes > size || e.Total != size {
							t.Errorf("%s progress %d/%d after %d: not increasing within total %d", name, e.Bytes, e.Total, last, size)
						}
						last = e.Bytes
						continue
					}
					kinds = append(kinds, e.Kind)
				}
				if size > 0 && last != size {
					t.Errorf("%s last progress = %d, want %d", name, last, size)
				}
				want := []EventKind{EventConnected, EventDone}
				if name == "sender" {
					want = []EventKind{EventListening, EventConnected, EventDone}
				}
				if diff := cmp.Diff(want, kinds); diff != "" {
					t.Errorf("%s events (-want +got):\n%s", name, diff)
				}
			}
			if got := s.Ports.Busy(); got != 0 {
				t.Errorf("ports busy after transfer = %d, want 0", got)
			}
		})
	}
}

// gateReader passes through r but blocks once after the first n bytes
// until open is closed.
type gateReader struct {
	r    io.Reader
	n    int64
	open <-chan struct{}
}

func (g *gateReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		<-g.open
		return g.r.Read(p)
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	n, err := g.r.Read(p)
	g.n -= int64(n)
	return n, err
}

// startStalled offers a 8 MiB file whose reader stalls after 1 MiB until
// open is closed, and starts both sides. It returns the channels of the
// sender's and the receiver's results.
func startStalled(t *testing.T, sctx, rctx context.Context, dir string, open <-chan struct{}, rev *events) (<-chan error, <-chan result) {
	t.Helper()
	const size = 8 << 20
	src, _ := testFile(t, t.TempDir(), size)
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	offer, _ := NewOffer("big.iso", size)
	s := newSender(freePorts(t, 1))
	l, err := s.Listen(sctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(sctx, &gateReader{r: f, n: 1 << 20, open: open}) }()
	r := rcvIn(dir)
	r.Notify = rev.notify
	rres := make(chan result, 1)
	go func() {
		p, err := r.Receive(rctx, offer, roundTrip(t, l.Accept()))
		rres <- result{p, err}
	}()
	rev.waitFor(t, func(e Event) bool { return e.Kind == EventProgress && e.Bytes >= 512<<10 })
	return serr, rres
}

func TestCancelBySenderMidTransfer(t *testing.T) {
	base, cancelAll := context.WithTimeout(context.Background(), testTimeout)
	defer cancelAll()
	sctx, cancelSender := context.WithCancel(base)
	dir := t.TempDir()
	open := make(chan struct{})
	serr, rres := startStalled(t, sctx, base, dir, open, newEvents())
	cancelSender()
	close(open)
	if err := <-serr; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve after sender cancel = %v, want context.Canceled", err)
	}
	res := <-rres
	if !errors.Is(res.err, ErrCancelled) {
		t.Errorf("Receive after sender cancel = %q, %v; want ErrCancelled", res.path, res.err)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("downloads folder after sender cancel = %q, want empty", got)
	}
}

func TestCancelByReceiverMidTransfer(t *testing.T) {
	base, cancelAll := context.WithTimeout(context.Background(), testTimeout)
	defer cancelAll()
	rctx, cancelReceiver := context.WithCancel(base)
	dir := t.TempDir()
	open := make(chan struct{})
	serr, rres := startStalled(t, base, rctx, dir, open, newEvents())
	cancelReceiver()
	res := <-rres
	close(open) // the sender goes on writing and must notice the CCL
	if !errors.Is(res.err, context.Canceled) {
		t.Errorf("Receive after receiver cancel = %q, %v; want context.Canceled", res.path, res.err)
	}
	if err := <-serr; !errors.Is(err, ErrCancelled) {
		t.Errorf("Serve after receiver cancel = %v, want ErrCancelled", err)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("downloads folder after receiver cancel = %q, want empty", got)
	}
}

func TestWrongCookie(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	src, sum := testFile(t, t.TempDir(), 100<<10)
	dir := t.TempDir()
	offer, _ := NewOffer("a.txt", 100<<10)
	sev := newEvents()
	s := newSender(freePorts(t, 1))
	s.Notify = sev.notify
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(src)
	defer f.Close()
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, f) }()

	bad := roundTrip(t, l.Accept())
	bad.AuthCookie++
	r := rcvIn(dir)
	if p, err := r.Receive(ctx, offer, bad); !errors.Is(err, ErrAuth) {
		t.Errorf("Receive with wrong AuthCookie = %q, %v; want ErrAuth", p, err)
	}
	sev.waitFor(t, func(e Event) bool { return e.Kind == EventRefused })
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("downloads folder after wrong cookie = %q, want empty", got)
	}
	// The sender still waits for the real receiver.
	p, err := r.Receive(ctx, offer, roundTrip(t, l.Accept()))
	if err != nil {
		t.Fatalf("Receive with right AuthCookie = %v", err)
	}
	if err := <-serr; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if got := fileSHA(t, p); got != sum {
		t.Errorf("sha256 = %s, want %s", got, sum)
	}
}

func TestHostileNamesStayInFolder(t *testing.T) {
	names := []string{
		"../../etc/passwd", "/abs/path", `C:\x\y`, "a\x00b.txt", "line\nbreak.txt",
		strings.Repeat("n", 10000) + ".txt", "..", ".", "", "...", " ", "./.", `..\..\boot.ini`,
		".bashrc", "\u202egpj.exe", "trail. . ", "\xff\xfe.bin",
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	root := t.TempDir()
	dir := mkdir(t, root, "a", "b", "downloads")
	src, sum := testFile(t, t.TempDir(), 3000)
	s := newSender(freePorts(t, 1))
	r := rcvIn(dir)
	for _, name := range names {
		t.Run(fmt.Sprintf("%.30q", name), func(t *testing.T) {
			offer := &Invitation{Command: CommandInvite, Cookie: NewCookie(), AppGUID: FileTransferGUID, FileName: name, FileSize: 3000}
			l, err := s.Listen(ctx, offer)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := os.Open(src)
			defer f.Close()
			serr := make(chan error, 1)
			go func() { serr <- l.Serve(ctx, f) }()
			p, err := r.Receive(ctx, offer, l.Accept())
			if err != nil {
				t.Fatalf("Receive(%q) = %v", name, err)
			}
			if err := <-serr; err != nil {
				t.Fatalf("Serve = %v", err)
			}
			if filepath.Dir(p) != dir {
				t.Errorf("Receive(%q) wrote %q, outside %q", name, p, dir)
			}
			if got := fileSHA(t, p); got != sum {
				t.Errorf("sha256 = %s, want %s", got, sum)
			}
			if base := filepath.Base(p); len(base) > 255 || strings.HasPrefix(base, ".") {
				t.Errorf("Receive(%q) base name %q: hidden or too long", name, base)
			}
		})
	}
	// Nothing but the downloads folder (and its files) may exist under root.
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if path != root && path != filepath.Join(root, "a") && path != filepath.Join(root, "a", "b") &&
			path != dir && filepath.Dir(path) != dir {
			t.Errorf("unexpected file %s outside the downloads folder", path)
		}
		if filepath.Dir(path) == dir && strings.HasPrefix(d.Name(), ".") {
			t.Errorf("leftover hidden file %s", path)
		}
		return nil
	})
	if got, want := len(dirNames(t, dir)), len(names); got != want {
		t.Errorf("files in downloads = %d, want %d (one per transfer, none replaced)", got, want)
	}
}

func TestRefuseBeforeWriting(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		max     int64
		free    func(string) (int64, error)
		wantErr error
	}{
		{"over limit", 1001, 1000, nil, ErrTooLarge},
		{"at limit", 1000, 1000, nil, nil},
		{"over free space", 1000, 0, func(string) (int64, error) { return 999, nil }, ErrNoSpace},
		{"real statfs, huge", 1 << 61, 0, nil, ErrNoSpace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			dir := t.TempDir()
			r := rcvIn(dir)
			r.MaxSize = tc.max
			r.FreeSpace = tc.free
			offer := &Invitation{Command: CommandInvite, Cookie: 7, AppGUID: FileTransferGUID, FileName: "x.bin", FileSize: tc.size}
			if err := r.Check(offer); !errors.Is(err, tc.wantErr) {
				t.Errorf("Check(size %d) = %v, want %v", tc.size, err, tc.wantErr)
			}
			if tc.wantErr == nil {
				return
			}
			// Receive refuses too, before connecting: the address is never dialled.
			acc := &Invitation{Command: CommandAccept, Cookie: 7, IPAddress: "127.0.0.1", Port: 9, HasAuthCookie: true, AuthCookie: 1}
			if _, err := r.Receive(ctx, offer, acc); !errors.Is(err, tc.wantErr) {
				t.Errorf("Receive(size %d) = %v, want %v", tc.size, err, tc.wantErr)
			}
			if got := dirNames(t, dir); len(got) != 0 {
				t.Errorf("downloads folder after refusal = %q, want empty", got)
			}
		})
	}
}

func TestNeverOverwrite(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	dir := t.TempDir()
	for _, n := range []string{"report.pdf", "report (1).pdf"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("keep "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, sum := testFile(t, t.TempDir(), 5000)
	res, serr := transfer(t, ctx, newSender(freePorts(t, 1)), rcvIn(dir), src, "report.pdf")
	if res.err != nil || serr != nil {
		t.Fatalf("transfer = %v, %v", res.err, serr)
	}
	if want := filepath.Join(dir, "report (2).pdf"); res.path != want {
		t.Errorf("Receive path = %q, want %q", res.path, want)
	}
	if got := fileSHA(t, res.path); got != sum {
		t.Errorf("sha256 = %s, want %s", got, sum)
	}
	for _, n := range []string{"report.pdf", "report (1).pdf"} {
		b, _ := os.ReadFile(filepath.Join(dir, n))
		if string(b) != "keep "+n {
			t.Errorf("existing %s = %q, was replaced", n, b)
		}
	}
}

func TestTenConcurrentTransfers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := newSender(freePorts(t, 10))
	dir := t.TempDir()
	srcDir := t.TempDir()
	type job struct{ src, sum string }
	var jobs []job
	for i := 0; i < 10; i++ {
		src, sum := testFile(t, srcDir, int64(1<<20+i*4099))
		jobs = append(jobs, job{src, sum})
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	paths := make([]string, 10)
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, serr := transfer(t, ctx, s, rcvIn(dir), j.src, fmt.Sprintf("file%d.bin", i))
			paths[i], errs[i] = res.path, errors.Join(res.err, serr)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			t.Errorf("transfer %d = %v", i, errs[i])
			continue
		}
		if got := fileSHA(t, paths[i]); got != j.sum {
			t.Errorf("transfer %d sha256 = %s, want %s", i, got, j.sum)
		}
	}
}

// TestEleventhTransfer holds all ten ports and checks what an 11th
// transfer does: with PortWait < 0 it fails at once, with a short wait it
// reports waiting and then fails with ErrNoFreePort, with a long wait it
// gets the first port released.
func TestEleventhTransfer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ports := freePorts(t, 10)
	s := newSender(ports)
	var held []*Listener
	for i := 0; i < 10; i++ {
		offer, _ := NewOffer("x", 1)
		l, err := s.Listen(ctx, offer)
		if err != nil {
			t.Fatalf("Listen %d = %v", i, err)
		}
		held = append(held, l)
	}
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	offer, _ := NewOffer("eleven", 1)

	t.Run("no wait", func(t *testing.T) {
		s := newSender(ports)
		s.PortWait = -1
		if _, err := s.Listen(ctx, offer); !errors.Is(err, ErrNoFreePort) {
			t.Errorf("Listen with 10 ports busy = %v, want ErrNoFreePort", err)
		}
	})
	t.Run("short wait", func(t *testing.T) {
		ev := newEvents()
		s := newSender(ports)
		s.PortWait = 300 * time.Millisecond
		s.Notify = ev.notify
		_, err := s.Listen(ctx, offer)
		if !errors.Is(err, ErrNoFreePort) || !strings.Contains(err.Error(), ports.Range()) {
			t.Errorf("Listen after wait = %v, want ErrNoFreePort naming %s", err, ports.Range())
		}
		var kinds []EventKind
		for _, e := range ev.all() {
			kinds = append(kinds, e.Kind)
		}
		if diff := cmp.Diff([]EventKind{EventWaitingForPort, EventFailed}, kinds); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
	t.Run("waits for release", func(t *testing.T) {
		ev := newEvents()
		s := newSender(ports)
		s.PortWait = testTimeout
		s.Notify = ev.notify
		got := make(chan *Listener, 1)
		go func() {
			l, err := s.Listen(ctx, offer)
			if err != nil {
				t.Errorf("Listen waiting for release = %v", err)
			}
			got <- l
		}()
		ev.waitFor(t, func(e Event) bool { return e.Kind == EventWaitingForPort })
		freed := held[3].Port()
		held[3].Close()
		l := <-got
		if l == nil {
			return
		}
		defer l.Close()
		if l.Port() != freed {
			t.Errorf("11th transfer got port %d, want the released %d", l.Port(), freed)
		}
	})
}

// TestOnePortOneAtATime narrows the range to one port: three transfers
// started together all arrive, one after the other.
func TestOnePortOneAtATime(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var mu sync.Mutex
	active, maxActive := 0, 0
	s := newSender(freePorts(t, 1))
	s.Notify = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case EventListening:
			active++
			maxActive = max(maxActive, active)
		case EventDone, EventFailed:
			active--
		}
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	sums := make([]string, 3)
	paths := make([]string, 3)
	for i := range 3 {
		src, sum := testFile(t, t.TempDir(), 2<<20)
		sums[i] = sum
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, serr := transfer(t, ctx, s, rcvIn(dir), src, "same.bin")
			paths[i], errs[i] = res.path, errors.Join(res.err, serr)
		}()
	}
	wg.Wait()
	for i := range 3 {
		if errs[i] != nil {
			t.Fatalf("transfer %d = %v", i, errs[i])
		}
		if got := fileSHA(t, paths[i]); got != sums[i] {
			t.Errorf("transfer %d sha256 = %s, want %s", i, got, sums[i])
		}
	}
	if maxActive != 1 {
		t.Errorf("simultaneous transfers on one port = %d, want 1", maxActive)
	}
}

func TestAcceptTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := newSender(freePorts(t, 1))
	s.AcceptTimeout = 200 * time.Millisecond
	offer, _ := NewOffer("x", 10)
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	err = l.Serve(ctx, strings.NewReader("0123456789"))
	if !errors.Is(err, ErrTimeout) || CancelCodeFor(err) != CancelFTTimeout {
		t.Errorf("Serve without receiver = %v (code %s), want ErrTimeout (FTTIMEOUT)", err, CancelCodeFor(err))
	}
	if s.Ports.Busy() != 0 {
		t.Errorf("port still held after Serve returned")
	}
}

// TestSourceFails covers a sender whose file ends early (a reader) or
// shrinks during the transfer (a mapped regular file): the sender cancels,
// the receiver keeps nothing, the process survives.
func TestSourceFails(t *testing.T) {
	t.Run("reader ends early", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		dir := t.TempDir()
		offer, _ := NewOffer("short.bin", 1<<20)
		s := newSender(freePorts(t, 1))
		l, err := s.Listen(ctx, offer)
		if err != nil {
			t.Fatal(err)
		}
		serr := make(chan error, 1)
		go func() { serr <- l.Serve(ctx, io.LimitReader(zeros{}, 1000)) }()
		if p, err := rcvIn(dir).Receive(ctx, offer, l.Accept()); !errors.Is(err, ErrCancelled) {
			t.Errorf("Receive from a short source = %q, %v; want ErrCancelled", p, err)
		}
		if err := <-serr; !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("Serve with a short source = %v, want io.ErrUnexpectedEOF", err)
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("downloads folder = %q, want empty", got)
		}
	})
	t.Run("file truncated while sent", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		dir := t.TempDir()
		src, _ := testFile(t, t.TempDir(), 20<<20)
		f, err := os.OpenFile(src, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		offer, _ := NewOffer("shrinks.bin", 20<<20)
		s := newSender(freePorts(t, 1))
		var once sync.Once
		s.Notify = func(e Event) {
			if e.Kind == EventProgress {
				once.Do(func() { f.Truncate(4096) })
			}
		}
		l, err := s.Listen(ctx, offer)
		if err != nil {
			t.Fatal(err)
		}
		serr := make(chan error, 1)
		go func() { serr <- l.Serve(ctx, f) }()
		// The cancel block may land inside a block: then the receiver sees
		// a protocol error instead of a cancel.
		if p, err := rcvIn(dir).Receive(ctx, offer, l.Accept()); !errors.Is(err, ErrCancelled) && !errors.Is(err, ErrProtocol) {
			t.Errorf("Receive from a shrinking file = %q, %v; want ErrCancelled or ErrProtocol", p, err)
		}
		if err := <-serr; err == nil {
			t.Errorf("Serve with a shrinking file = nil, want an error")
		}
		if got := dirNames(t, dir); len(got) != 0 {
			t.Errorf("downloads folder = %q, want empty", got)
		}
	})
}

func TestRemoveStale(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	for _, n := range []string{".msnftp-1.part", ".msnftp-2.part", "keep.txt", ".msnftp-new.part"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if n != ".msnftp-new.part" {
			os.Chtimes(p, old, old)
		}
	}
	if err := rcvIn(dir).RemoveStale(); err != nil {
		t.Fatalf("RemoveStale() = %v", err)
	}
	if diff := cmp.Diff([]string{".msnftp-new.part", "keep.txt"}, dirNames(t, dir)); diff != "" {
		t.Errorf("after RemoveStale (-want +got):\n%s", diff)
	}
}

func TestCancelBeforeConnect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ev := newEvents()
	s := newSender(freePorts(t, 1))
	s.Notify = ev.notify
	offer, _ := NewOffer("x", 10)
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, strings.NewReader("0123456789")) }()
	cancel()
	if err := <-serr; !errors.Is(err, context.Canceled) || CancelCodeFor(err) != CancelOutbandCancel {
		t.Errorf("Serve cancelled before connect = %v (code %s), want context.Canceled (OUTBANDCANCEL)", err, CancelCodeFor(err))
	}
	if s.Ports.Busy() != 0 {
		t.Errorf("port still held after a cancelled Serve")
	}
}

// TestSilentConnectionDoesNotBlock connects and says nothing; the real
// receiver still gets the file without waiting for the silent one.
func TestSilentConnectionDoesNotBlock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	s := newSender(freePorts(t, 1))
	s.IdleTimeout = testTimeout // the silent connection is never timed out
	offer, _ := NewOffer("a.bin", 5)
	l, err := s.Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	acc := l.Accept()
	silent, err := net.Dial("tcp", net.JoinHostPort(acc.IPAddress, strconv.Itoa(acc.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, strings.NewReader("12345")) }()
	dir := t.TempDir()
	if _, err := rcvIn(dir).Receive(ctx, offer, acc); err != nil {
		t.Errorf("Receive next to a silent connection = %v", err)
	}
	if err := <-serr; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/internal/fsutil"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/transfer"
)

// freePortRange finds n consecutive free TCP ports below the usual
// ephemeral range (where outgoing connections take ports) and returns
// "lo-hi".
func freePortRange(t testing.TB, n int) string {
	t.Helper()
	for try := 0; try < 500; try++ {
		lo := 20000 + mrand.IntN(12000)
		var held []net.Listener
		ok := true
		for p := lo; p < lo+n; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			if n == 1 {
				return fmt.Sprint(lo)
			}
			return fmt.Sprintf("%d-%d", lo, lo+n-1)
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return ""
}

// randomFile writes size random bytes to dir/name and returns its path and
// hex SHA-256.
func randomFile(t testing.TB, dir, name string, size int) (string, string) {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return p, hex.EncodeToString(sum[:])
}

// dirNames lists dir (hidden temporary files included).
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// eventsSince returns the daemon's events after seq (from its history).
func eventsSince(t *testing.T, ctx context.Context, sock, seq string) []client.Event {
	t.Helper()
	ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	out, err := ctl(ectx, sock, "events", "-since", seq)
	if err != nil {
		t.Fatalf("ctl events: %v", err)
	}
	var es []client.Event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e client.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("event %q: %v", line, err)
		}
		es = append(es, e)
	}
	return es
}

// maxConcurrent returns the most transfers between ft-listening and their
// end event at any time, and how many ft-waiting-port events there were.
func maxConcurrent(es []client.Event) (most, waited int) {
	open := map[uint32]bool{}
	for _, e := range es {
		switch e.Type {
		case transfer.EventListening:
			open[e.Cookie] = true
			most = max(most, len(open))
		case transfer.EventDone, transfer.EventFailed, transfer.EventCancelled:
			delete(open, e.Cookie)
		case transfer.EventWaitingPort:
			waited++
		}
	}
	return most, waited
}

// sendAsync runs ctl sendfile in the background.
func sendAsync(ctx context.Context, sock string, args ...string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := ctl(ctx, sock, append([]string{"sendfile"}, args...)...)
		ch <- err
	}()
	return ch
}

func TestFileTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const alice, bob, carol, dave, erin = "alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"
	pw := map[string]string{alice: "alice-Pw1", bob: "bob-Pw2", carol: "carol-Pw3", dave: "dave-Pw4", erin: "erin-Pw5"}
	l := newLab(t, pw)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src := t.TempDir()
	bobParent := t.TempDir()
	bobDir := filepath.Join(bobParent, "downloads")
	daveDir := filepath.Join(t.TempDir(), "downloads")

	// alice: plain sender on 10 ports; bob: asks before accepting.
	a := daemon(t, ctx, l, alice, pw[alice], "-ft-ports", freePortRange(t, 10), "-ft-address", "127.0.0.1")
	b := daemon(t, ctx, l, bob, pw[bob], "-downloads", bobDir, "-ft-max-size", "64M")
	// carol: one port, 2 MiB/s (slow enough to cancel mid-transfer).
	c := daemon(t, ctx, l, carol, pw[carol], "-ft-ports", freePortRange(t, 1), "-ft-send-rate", "2M")
	// dave: accepts everything; erin: 10 ports, 1 MiB/s per transfer (3 s
	// per file, so 11 files offered at once overlap).
	d := daemon(t, ctx, l, dave, pw[dave], "-downloads", daveDir, "-ft-auto-accept")
	e := daemon(t, ctx, l, erin, pw[erin], "-ft-ports", freePortRange(t, 10), "-ft-send-rate", "1M")
	for _, s := range []string{a, b, c, d, e} {
		mustCtl(t, ctx, s, "wait-signin", "-timeout", "60s")
	}

	t.Run("20MiB", func(t *testing.T) {
		path, sum := randomFile(t, src, "big.bin", 20<<20)
		seqB := lastSeq(t, ctx, b)
		done := sendAsync(ctx, a, bob, path)
		offer := waitFor(t, ctx, b, seqB, transfer.EventOffer, "account="+alice)
		if offer.File != "big.bin" || offer.Size != 20<<20 || offer.Cookie == 0 {
			t.Fatalf("ft-offer = %+v, want big.bin of %d bytes with a cookie", offer, 20<<20)
		}
		cookie := fmt.Sprint(offer.Cookie)
		mustCtl(t, ctx, b, "accept", cookie)
		if err := <-done; err != nil {
			t.Fatalf("sendfile: %v", err)
		}
		got := waitFor(t, ctx, b, seqB, transfer.EventDone, "cookie="+cookie)
		if got.SHA256 != sum || got.Size != 20<<20 || filepath.Dir(got.Path) != bobDir {
			t.Errorf("ft-done = sha256 %s size %d path %s, want %s %d in %s", got.SHA256, got.Size, got.Path, sum, 20<<20, bobDir)
		}
		if s, err := fsutil.SHA256(filepath.Join(bobDir, "big.bin")); err != nil || s != sum {
			t.Errorf("received file sha256 = %s, %v, want %s", s, err, sum)
		}
		var ts []transfer.Transfer
		if err := json.Unmarshal([]byte(mustCtl(t, ctx, b, "transfers")), &ts); err != nil || len(ts) == 0 || ts[len(ts)-1].State != transfer.StateDone {
			t.Errorf("bob's transfers = %+v, %v, want the last one done", ts, err)
		}
	})

	t.Run("reject", func(t *testing.T) {
		path, _ := randomFile(t, src, "unwanted.txt", 1000)
		seqB := lastSeq(t, ctx, b)
		done := sendAsync(ctx, a, bob, path)
		offer := waitFor(t, ctx, b, seqB, transfer.EventOffer, "file=unwanted.txt")
		mustCtl(t, ctx, b, "reject", fmt.Sprint(offer.Cookie))
		if err := <-done; err == nil || !strings.Contains(err.Error(), "rejected-by-peer") {
			t.Errorf("sendfile of a rejected file: error %v, want rejected-by-peer", err)
		}
		if _, err := os.Stat(filepath.Join(bobDir, "unwanted.txt")); err == nil {
			t.Errorf("rejected file was written")
		}
	})

	t.Run("conversation closed before the answer", func(t *testing.T) {
		path, _ := randomFile(t, src, "orphan.txt", 1000)
		seqB := lastSeq(t, ctx, b)
		done := sendAsync(ctx, a, bob, path)
		offer := waitFor(t, ctx, b, seqB, transfer.EventOffer, "file=orphan.txt")
		mustCtl(t, ctx, b, "leave", offer.Conversation)
		if err := <-done; err == nil || !strings.Contains(err.Error(), "conversation") {
			t.Errorf("sendfile after the receiver left: error %v, want the conversation ended", err)
		}
		waitFor(t, ctx, b, seqB, transfer.EventFailed, fmt.Sprintf("cookie=%d", offer.Cookie))
		if _, err := ctl(ctx, b, "accept", fmt.Sprint(offer.Cookie)); err == nil {
			t.Errorf("accept after the conversation ended succeeded, want an error")
		}
	})

	t.Run("too large", func(t *testing.T) {
		f, err := os.Create(filepath.Join(src, "huge.img"))
		if err != nil {
			t.Fatal(err)
		}
		f.Truncate(65 << 20) // sparse, above bob's 64M limit
		f.Close()
		seqB := lastSeq(t, ctx, b)
		_, err = ctl(ctx, a, "sendfile", bob, f.Name())
		if err == nil || !strings.Contains(err.Error(), "rejected-by-peer") {
			t.Errorf("sendfile above the receiver's limit: error %v, want rejected-by-peer", err)
		}
		waitFor(t, ctx, b, seqB, transfer.EventFailed, "file=huge.img", "reason=refused")
	})

	for _, who := range []string{"sender", "receiver"} {
		t.Run("cancel by "+who, func(t *testing.T) {
			path, _ := randomFile(t, src, "cancel-"+who+".bin", 20<<20)
			seqB, seqC := lastSeq(t, ctx, b), lastSeq(t, ctx, c)
			done := sendAsync(ctx, c, bob, path)
			offer := waitFor(t, ctx, b, seqB, transfer.EventOffer, "account="+carol)
			cookie := fmt.Sprint(offer.Cookie)
			mustCtl(t, ctx, b, "accept", cookie)
			waitFor(t, ctx, b, seqB, transfer.EventProgress, "cookie="+cookie)
			sock, other, seqO := c, b, seqB
			if who == "receiver" {
				sock, other, seqO = b, c, seqC
			}
			mustCtl(t, ctx, sock, "cancel", cookie)
			if err := <-done; err == nil || !strings.Contains(err.Error(), "cancel") {
				t.Errorf("sendfile cancelled by the %s: error %v, want a cancellation", who, err)
			}
			ev := waitFor(t, ctx, other, seqO, transfer.EventCancelled, "cookie="+cookie)
			if ev.Reason != "cancelled-by-peer" {
				t.Errorf("the other side's ft-cancelled reason = %q, want cancelled-by-peer", ev.Reason)
			}
			for _, n := range dirNames(t, bobDir) {
				if strings.HasPrefix(n, ".") || strings.HasPrefix(n, "cancel-") {
					t.Errorf("cancelled transfer left %s in downloads", n)
				}
			}
			if _, err := ctl(ctx, sock, "cancel", cookie); err == nil {
				t.Errorf("second cancel of %s succeeded, want an error", cookie)
			}
		})
	}

	t.Run("hostile names", func(t *testing.T) {
		path, sum := randomFile(t, src, "payload.txt", 4096)
		names := []string{"../../escape.txt", "/etc/passwd", "..", `..\..\win.ini`, "a/b/../../../c.txt", strings.Repeat("x", 1200) + ".txt", ".hidden", "nul\x01ctl.txt"}
		for _, name := range names {
			seqB := lastSeq(t, ctx, b)
			done := sendAsync(ctx, a, "-name", name, bob, path)
			offer := waitFor(t, ctx, b, seqB, transfer.EventOffer, "account="+alice)
			if offer.File != name {
				t.Errorf("ft-offer file = %q, want the name as offered %q", offer.File, name)
			}
			mustCtl(t, ctx, b, "accept", fmt.Sprint(offer.Cookie))
			if err := <-done; err != nil {
				t.Fatalf("sendfile -name %q: %v", name, err)
			}
			got := waitFor(t, ctx, b, seqB, transfer.EventDone, fmt.Sprintf("cookie=%d", offer.Cookie))
			if filepath.Dir(got.Path) != bobDir || got.SHA256 != sum {
				t.Errorf("name %.40q saved as %q (sha %s), want a file directly in %s", name, got.Path, got.SHA256, bobDir)
			}
			if base := filepath.Base(got.Path); strings.HasPrefix(base, ".") || strings.ContainsAny(base, "/\\\x00\x01\n") {
				t.Errorf("name %.40q saved under unsafe name %q", name, base)
			}
		}
		if n := dirNames(t, bobParent); len(n) != 1 || n[0] != "downloads" {
			t.Errorf("files outside downloads: %v, want only downloads", n)
		}
		if _, err := ctl(ctx, a, "sendfile", "-name", "line\nbreak.txt", bob, path); err == nil {
			t.Errorf("sendfile with a line break in the name succeeded, want a refusal")
		}
	})

	t.Run("one port", func(t *testing.T) {
		// carol has one port: three files go one at a time.
		seqC := lastSeq(t, ctx, c)
		seqD := lastSeq(t, ctx, d)
		sums := map[string]string{}
		for i := range 3 {
			p, sum := randomFile(t, src, fmt.Sprintf("one-%d.bin", i), 2<<20)
			sums[filepath.Base(p)] = sum
			mustCtl(t, ctx, c, "sendfile", "-no-wait", dave, p)
		}
		for name, sum := range sums {
			got := waitFor(t, ctx, d, seqD, transfer.EventDone, "file="+name)
			if got.SHA256 != sum {
				t.Errorf("%s: sha256 %s, want %s", name, got.SHA256, sum)
			}
		}
		waitFor(t, ctx, c, seqC, transfer.EventDone)
		most, waited := maxConcurrent(eventsSince(t, ctx, c, seqC))
		if most != 1 || waited == 0 {
			t.Errorf("one port: at most %d transfers at once, %d ft-waiting-port events; want 1 and some", most, waited)
		}
	})

	t.Run("ten at once, the eleventh waits", func(t *testing.T) {
		seqE := lastSeq(t, ctx, e)
		seqD := lastSeq(t, ctx, d)
		sums := map[string]string{}
		for i := range 11 {
			p, sum := randomFile(t, src, fmt.Sprintf("many-%02d.bin", i), 3<<20)
			sums[filepath.Base(p)] = sum
		}
		var wg sync.WaitGroup
		errs := make(chan error, 11)
		for name := range sums {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := ctl(ctx, e, "sendfile", dave, filepath.Join(src, name)); err != nil {
					errs <- fmt.Errorf("sendfile %s: %w", name, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for name, sum := range sums {
			got := waitFor(t, ctx, d, seqD, transfer.EventDone, "file="+name)
			if got.SHA256 != sum {
				t.Errorf("%s: sha256 %s, want %s", name, got.SHA256, sum)
			}
		}
		most, waited := maxConcurrent(eventsSince(t, ctx, e, seqE))
		if most != 10 || waited == 0 {
			t.Errorf("10 ports, 11 transfers: at most %d at once, %d ft-waiting-port events; want 10 and at least 1", most, waited)
		}
	})
}

func TestConsoleFileTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	const fox, gus = "fox@example.com", "gus@example.com"
	l := newLab(t, map[string]string{fox: "fox-Pw1", gus: "gus-Pw2"})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	gusDir := t.TempDir()
	g := daemon(t, ctx, l, gus, "gus-Pw2", "-downloads", gusDir, "-ft-ports", freePortRange(t, 2))
	mustCtl(t, ctx, g, "wait-signin", "-timeout", "60s")

	foxDir := t.TempDir()
	in, inW := io.Pipe()
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- runEnv(ctx, []string{"console", "-server", l.r.Addr, "-nexus", l.r.Nexus, "-ca", l.r.CA, "-account", fox,
			"-downloads", foxDir, "-ft-ports", freePortRange(t, 2)},
			in, &out, &logs, func(k string) string {
				if k == "MSMSGS_PASSWORD" {
					return "fox-Pw1"
				}
				return ""
			})
	}()
	say := func(line string) {
		t.Helper()
		if _, err := io.WriteString(inW, line+"\n"); err != nil {
			t.Fatalf("console input: %v", err)
		}
	}
	waitOutput(t, &out, "* signed in as fox@example.com")

	// gus offers a file; the console shows the offer and /accept takes it.
	path, sum := randomFile(t, t.TempDir(), "photo.jpg", 3<<20)
	mustCtl(t, ctx, g, "sendfile", "-no-wait", fox, path)
	waitOutput(t, &out, `gus@example.com offers the file "photo.jpg" (3.0 MiB)`)
	say("/accept")
	waitOutput(t, &out, `"photo.jpg": done, `+filepath.Join(foxDir, "photo.jpg"))
	if s, err := fsutil.SHA256(filepath.Join(foxDir, "photo.jpg")); err != nil || s != sum {
		t.Errorf("console received sha256 %s, %v, want %s", s, err, sum)
	}

	// The console sends a file; gus accepts it.
	path, sum = randomFile(t, t.TempDir(), "notes.txt", 100<<10)
	seq := lastSeq(t, ctx, g)
	say("/sendfile " + gus + " " + path)
	offer := waitFor(t, ctx, g, seq, transfer.EventOffer, "account="+fox)
	mustCtl(t, ctx, g, "accept", fmt.Sprint(offer.Cookie))
	got := waitFor(t, ctx, g, seq, transfer.EventDone, fmt.Sprintf("cookie=%d", offer.Cookie))
	if got.SHA256 != sum {
		t.Errorf("gus received sha256 %s, want %s", got.SHA256, sum)
	}
	waitOutput(t, &out, `"notes.txt": done`)
	say("/transfers")
	waitOutput(t, &out, "receive done")
	say("/reject")
	waitOutput(t, &out, "failed: ")
	say("/quit")
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("console: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("console did not exit after /quit")
	}
}

// BenchmarkDaemonFileTransfer sends a 256 MiB file between two msmsgs
// daemons through messengerd on loopback, from `ctl sendfile` to the
// receiver's ft-done (which includes hashing the received file).
func BenchmarkDaemonFileTransfer(b *testing.B) {
	const size = 256 << 20
	const alice, bob = "alice@example.com", "bob@example.com"
	pw := map[string]string{alice: "alice-Pw1", bob: "bob-Pw2"}
	l := newLab(b, pw)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bobDir := b.TempDir()
	a := daemon(b, ctx, l, alice, pw[alice], "-ft-ports", freePortRange(b, 2))
	d := daemon(b, ctx, l, bob, pw[bob], "-downloads", bobDir, "-ft-auto-accept")
	mustCtl(b, ctx, a, "wait-signin", "-timeout", "60s")
	mustCtl(b, ctx, d, "wait-signin", "-timeout", "60s")
	path, _ := randomFile(b, b.TempDir(), "bench.bin", size)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mustCtl(b, ctx, a, "sendfile", bob, path)
		b.StopTimer()
		for _, n := range dirNames(b, bobDir) {
			os.Remove(filepath.Join(bobDir, n))
		}
		b.StartTimer()
	}
}

package msnftp

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// stallReader returns its data, then blocks until ctx ends: a sender whose
// user's file stops growing, or a hostile sender that stalls on purpose.
type stallReader struct {
	ctx context.Context
	r   io.Reader
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF {
		<-s.ctx.Done()
		return 0, s.ctx.Err()
	}
	return n, err
}

// TestReserveAsDataArrives: an offer of 256 MiB that sends 1 MiB and then
// stalls holds about the received bytes plus ReserveAhead on disk, not
// the whole offered size.
func TestReserveAsDataArrives(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	const offered, sent = 256 << 20, 1 << 20
	dir := t.TempDir()
	ev := newEvents()
	r := rcvIn(dir)
	r.FreeSpace = func(string) (int64, error) { return 1 << 40, nil }
	r.Notify = ev.notify
	offer, err := NewOffer("big.iso", offered)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newSender(freePorts(t, 1)).Listen(ctx, offer)
	if err != nil {
		t.Fatal(err)
	}
	acc := roundTrip(t, l.Accept())
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go l.Serve(sctx, &stallReader{ctx: sctx, r: bytes.NewReader(make([]byte, sent))})
	done := make(chan error, 1)
	go func() {
		_, err := r.Receive(sctx, roundTrip(t, offer), acc)
		done <- err
	}()
	ev.waitFor(t, func(e Event) bool { return e.Kind == EventProgress && e.Bytes >= sent/2 })
	parts, _ := filepath.Glob(filepath.Join(dir, ".msnftp-*.part"))
	if len(parts) != 1 {
		t.Fatalf("temporary files = %q, want one", parts)
	}
	st, err := os.Stat(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	allocated := st.Sys().(*syscall.Stat_t).Blocks * 512
	if limit := int64(sent + ReserveAhead + 1<<20); allocated > limit {
		t.Errorf("stalled receive of %d bytes after %d: %d bytes allocated on disk, want at most %d", offered, sent, allocated, limit)
	}
	stop()
	if err := <-done; err == nil {
		t.Error("Receive of a stalled transfer after cancel = nil error")
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("downloads folder after cancel = %q, want empty", got)
	}
}

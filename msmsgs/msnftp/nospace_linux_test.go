package msnftp

import (
	"context"
	"errors"
	"github.com/oemkit/messenger/internal/testenv"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDiskFullDuringReceive receives into a 1 MiB tmpfs while pretending
// there is plenty of free space: the real shortage is caught when the
// space is reserved, before data arrives, and nothing is left behind. It
// needs root (mount); it skips otherwise.
func TestDiskFullDuringReceive(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		testenv.Missing(t, "cannot mount a small tmpfs (run as root, or in a user namespace with unshare -rm): %v", err)
	}
	defer unix.Unmount(dir, 0)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	src, _ := testFile(t, t.TempDir(), 4<<20)
	r := rcvIn(dir)
	r.FreeSpace = func(string) (int64, error) { return 1 << 40, nil }
	res, serr := transfer(t, ctx, newSender(freePorts(t, 1)), r, src, "big.bin")
	if !errors.Is(res.err, ErrNoSpace) {
		t.Errorf("Receive into a full disk = %q, %v; want ErrNoSpace", res.path, res.err)
	}
	if !errors.Is(serr, ErrCancelled) {
		t.Errorf("Serve to a full receiver = %v, want ErrCancelled (BYE %d)", serr, ByeNoDiskSpace)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("downloads folder = %q, want empty", got)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
}

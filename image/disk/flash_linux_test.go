package disk

import (
	"errors"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/oemkit/messenger/internal/testenv"
)

// smallFS mounts a tmpfs of size bytes (a full card, without loop devices).
func smallFS(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "a small file system for the full-target test needs root (tmpfs mount); run the test as root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		testenv.Missing(t, "tmpfs mount: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	return dir
}

// TestInspectRefusesHostDisk points the target check (which runs before
// Flash opens anything for writing) at the block device this host's / is
// on, and at one of its partitions when / is on one.
func TestInspectRefusesHostDisk(t *testing.T) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		testenv.Missing(t, "no /proc/self/mountinfo: the host-disk check needs Linux procfs")
	}
	mounts, err := ParseMountInfo(b)
	if err != nil {
		t.Fatalf("ParseMountInfo(this host) = %v", err)
	}
	var node string
	for _, m := range mounts {
		if m.Point == "/" {
			node = m.Source
		}
	}
	st, err := os.Stat(node)
	if err != nil || st.Mode()&os.ModeDevice == 0 {
		testenv.Missing(t, "/ is on %q, not a block device node here (a container?): run the test where / is on a disk", node)
	}
	_, err = inspectTarget(node, "/proc/self/mountinfo")
	if !errors.Is(err, ErrHostDisk) {
		t.Errorf("inspectTarget(%s, the disk / is on) = %v, want ErrHostDisk", node, err)
	}
}

package storage

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/oemkit/messenger/drivers/kmod"
)

func loadModules(names ...string) ([]string, error) {
	idx, err := kmod.Open()
	if err != nil {
		return nil, err
	}
	return idx.Load(nil, names...)
}

// recheck bounds how long a missed inotify event can delay the wait.
const recheck = 250 * time.Millisecond

// waitNode waits until dir has an entry matching pattern, or timeout
// passes. devtmpfs reports the nodes the kernel creates to inotify, so the
// wait wakes when the node appears instead of polling; it still looks
// every recheck in case an event is missed, and polls where inotify fails.
func waitNode(dir, pattern string, timeout time.Duration) bool {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return pollNode(dir, pattern, timeout)
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		return pollNode(dir, pattern, timeout)
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for {
		// Looked at after the watch is in place, so a node made before
		// it is seen here and one made after it wakes the poll below.
		if hasNode(dir, pattern) {
			return true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return false
		}
		wait := min(left, recheck)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, int(wait.Milliseconds())+1); err != nil && err != unix.EINTR {
			return pollNode(dir, pattern, time.Until(deadline))
		}
		// Drain the events: the glob above decides.
		for {
			if n, err := unix.Read(fd, buf); n <= 0 || err != nil {
				break
			}
		}
	}
}

package image

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/internal/testenv"
)

// cancelOnWrite cancels a context once the progress output contains a
// string.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	when   string
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(b)
	if strings.Contains(c.buf.String(), c.when) {
		c.cancel()
	}
	return len(b), nil
}

// children returns the pids of this process's child processes.
func children(t *testing.T) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		testenv.Missing(t, "no /proc to find child processes in: %v", err)
	}
	var out []int
	me := strconv.Itoa(os.Getpid())
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == me {
			pid, _ := strconv.Atoi(e.Name())
			out = append(out, pid)
		}
	}
	return out
}

// TestBuildCancelWaitsForGoBuild cancels a build while the Go commands are
// being built: Build must return the cancellation only after mkuimage (its
// goroutine and go build processes) has stopped writing into the temporary
// folder, and leave no temporary folder behind.
func TestBuildCancelWaitsForGoBuild(t *testing.T) {
	NeedKernel(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w := &cancelOnWrite{when: "go: building", cancel: cancel}
	_, err := Build(ctx, MessengerSpec("qemu-x86_64"), filepath.Join(t.TempDir(), "out"), WithProgress(w))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build(cancelled during go build) = %v, want context.Canceled", err)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "uimage.Create") {
		t.Errorf("Build returned while mkuimage still runs:\n%s", stacks)
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("Build returned while child processes %v (the go build) still run", kids)
	}
	for i := 0; i < 2; i++ {
		left, _ := filepath.Glob(filepath.Join(tmp, "sysgen-build-*"))
		if len(left) > 0 {
			t.Fatalf("temporary build folder %v left behind (or written again) after Build returned", left)
		}
		time.Sleep(time.Second)
	}
}

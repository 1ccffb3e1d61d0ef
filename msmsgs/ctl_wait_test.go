package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestWaitForStartingDaemon: `ctl wait-signin` run before the daemon has
// made its socket waits for it instead of failing at once.
func TestWaitForStartingDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ctl.sock")
	go func() {
		time.Sleep(300 * time.Millisecond)
		l, err := net.Listen("unix", sock)
		if err != nil {
			return
		}
		defer l.Close()
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := dialCtl(ctx, sock, []string{"wait-signin", "-timeout", "5s"})
	if err != nil {
		t.Fatalf("dialCtl(wait-signin) before the socket exists = %v, want it to wait", err)
	}
	conn.Close()
	if time.Since(start) < 250*time.Millisecond {
		t.Errorf("dialCtl returned after %v, before the socket existed", time.Since(start))
	}
	// Other commands fail at once.
	var out bytes.Buffer
	if err := ctlDo(ctx, filepath.Join(t.TempDir(), "none.sock"), []string{"status"}, &out); err == nil {
		t.Error("ctlDo(status) without a daemon = nil error")
	}
	if got := waitTimeout([]string{"wait", "-timeout", "7s", "message"}); got != 7*time.Second {
		t.Errorf("waitTimeout = %v, want 7s", got)
	}
}

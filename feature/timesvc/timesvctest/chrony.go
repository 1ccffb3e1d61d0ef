// Package timesvctest starts a real NTP server for tests: Debian's chronyd
// on 127.0.0.1, on a free port, with its own config, pid and drift files in
// a temp dir and no control of the host clock. A QEMU guest reaches it at
// 10.0.2.2:<port>.
package timesvctest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/internal/testenv"
)

// Chrony is a running chronyd.
type Chrony struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Port is the UDP port it serves NTP on.
	Port int

	mu  sync.Mutex
	log bytes.Buffer
}

// Log returns what chronyd printed.
func (c *Chrony) Log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.String()
}

func (c *Chrony) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log.Write(p)
}

// StartChrony starts chronyd serving its local clock (the host's, stratum
// 10) and returns once it answers an NTP request; it is stopped when the
// test ends. Without chronyd the test skips (fails under CI=true).
func StartChrony(t testing.TB) *Chrony {
	t.Helper()
	bin := "/usr/sbin/chronyd"
	if _, err := os.Stat(bin); err != nil {
		bin = testenv.Tool(t, "chronyd", "apt-get install chrony")
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Chrony{Port: pc.LocalAddr().(*net.UDPAddr).Port}
	pc.Close()
	c.Addr = fmt.Sprintf("127.0.0.1:%d", c.Port)
	dir := t.TempDir()
	conf := filepath.Join(dir, "chrony.conf")
	cfg := fmt.Sprintf("pidfile %s\ndriftfile %s\nport %d\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 10\ncmdport 0\n",
		filepath.Join(dir, "chronyd.pid"), filepath.Join(dir, "drift"), c.Port)
	if err := os.WriteFile(conf, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// -d: foreground, log to stderr; -x: never touch the host clock.
	args := []string{"-f", conf, "-d", "-x"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root") // keep access to the temp dir
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = c, c
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chronyd: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := probe(c.Addr)
		if err == nil {
			return c
		}
		select {
		case <-done:
			t.Fatalf("chronyd exited: %s", c.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("chronyd on %s does not answer: %v\n%s", c.Addr, err, c.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probe sends one NTP v4 client request and waits 200 ms for any reply
// from the server's port.
func probe(addr string) error {
	conn, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	req := make([]byte, 48)
	req[0] = 4<<3 | 3
	req[47] = 1 // a non-zero transmit timestamp
	if _, err := conn.Write(req); err != nil {
		return err
	}
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 1024)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if n < 48 || buf[0]&7 != 4 {
		return fmt.Errorf("not an NTP server reply (%d bytes)", n)
	}
	return nil
}

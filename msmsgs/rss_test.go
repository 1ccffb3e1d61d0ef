package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/client"
)

// rssKiB reads VmRSS of a process from /proc.
func rssKiB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// TestRSS100Contacts measures the resident memory of a signed-in msmsgs
// daemon (a separate process) whose contact list holds 100 contacts, 10
// of them online, with one conversation open. Target: under 20 MB.
//
//	go test ./msmsgs -run TestRSS100Contacts -v
func TestRSS100Contacts(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	if raceEnabled {
		t.Skip("memory measurement is not meaningful under -race")
	}
	const n, online = 100, 10
	const me = "owner@example.com"
	bin := buildTool(t, "msmsgs")
	l := &lab{t: t, bin: buildTool(t, "messengerd"), data: t.TempDir()}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := store.Open(l.data)
	if err != nil {
		t.Fatal(err)
	}
	contacts := make([]string, n)
	for i := range contacts {
		contacts[i] = fmt.Sprintf("contact%03d@example.com", i)
	}
	for _, u := range append([]string{me}, contacts...) {
		if err := st.AddUser(ctx, u, "pw-"+u, ""); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	l.start("127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(l.kill)

	startDaemon := func() (*exec.Cmd, string) {
		sock := filepath.Join(t.TempDir(), "ctl.sock")
		cmd := exec.Command(bin, "daemon", "-server", l.r.Addr, "-nexus", l.r.Nexus, "-ca", l.r.CA, "-account", me, "-ctl", sock)
		cmd.Env = append(os.Environ(), "MSMSGS_PASSWORD=pw-"+me, "GOMAXPROCS=2")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if _, err := ctl(ctx, sock, "wait-signin", "-timeout", "30s"); err == nil {
				return cmd, sock
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				t.Fatal("msmsgs daemon did not sign in within 30s")
			}
			time.Sleep(50 * time.Millisecond) // polling for the socket to appear
		}
	}
	cmd, sock := startDaemon()
	for _, c := range contacts {
		mustCtl(t, ctx, sock, "add", c)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	// Some contacts online (in-process daemons), then a fresh sign-in
	// that loads the 100 contacts with SYN.
	for _, c := range contacts[:online] {
		s := daemon(t, ctx, l, c, "pw-"+c)
		mustCtl(t, ctx, s, "wait-signin", "-timeout", "60s")
	}
	cmd, sock = startDaemon()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	var cs []client.Contact
	if err := json.Unmarshal([]byte(mustCtl(t, ctx, sock, "contacts")), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != n {
		t.Fatalf("contacts after sign-in = %d, want %d", len(cs), n)
	}
	mustCtl(t, ctx, sock, "send", contacts[0], "hello")
	kib, err := rssKiB(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("msmsgs RSS signed in with %d contacts (%d online, 1 conversation): %.1f MB (%d KiB)", n, online, float64(kib)/1024, kib)
	if kib >= 20*1024 {
		t.Errorf("msmsgs RSS = %d KiB, want under 20 MB", kib)
	}
}

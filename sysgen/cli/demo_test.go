package cli

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDemoEndToEnd runs the README's main command (sysgen demo --check):
// the Messenger image boots in QEMU, signs in to messengerd through QEMU
// user networking, sees and changes presence, exchanges a message each way
// with a second client and sends it a file checked by hash.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end QEMU demo skipped in -short mode")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not found: apt-get install qemu-system-x86 (scripts/install-deps)")
	}
	work := t.TempDir()
	out, stderr, code := run(t, nil, "demo", "--check", "--work", work)
	t.Logf("demo output:\n%s", out)
	if code != 0 {
		t.Fatalf("sysgen demo --check exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"PASS", "signed in", "same sha256"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

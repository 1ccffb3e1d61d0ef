package cli

import (
	"strings"
	"testing"

	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/internal/testenv"
)

// TestDemoEndToEnd runs the README's main command (sysgen demo --check):
// the Messenger image boots in QEMU, signs in to messengerd through QEMU
// user networking, sees and changes presence, exchanges a message each way
// with a second client and sends it a file checked by hash.
func TestDemoEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end QEMU demo skipped in -short mode")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86 (scripts/install-deps)")
	imagetest.Kernel(t, "qemu-x86_64") // the demo's board: skips (fails under CI) without apt-get
	work := t.TempDir()
	out, stderr, code := run(t, nil, "demo", "--check", "--work", work)
	t.Logf("demo output:\n%s", out)
	if code != 0 {
		t.Fatalf("sysgen demo --check exit %d: %s\n%s", code, stderr, out)
	}
	for _, want := range []string{"PASS device alice@lab.test signs in", "PASS host sees the device go busy",
		"PASS file /bbin/bb from the device arrives with the same sha256", "PASS /var/lib/msmsgs/demo-state.txt survives the power cut",
		"PASS device signs in again after the reboot", "PASS (15 checks)"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

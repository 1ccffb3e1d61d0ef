package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// TestWarnNoWatchdog: a design with updates on a board without a watchdog
// resolves (it still builds) and sysgen build says what the device will
// not do; on the board with the i6300esb it says nothing.
func TestWarnNoWatchdog(t *testing.T) {
	cat, err := feature.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		bsp  string
		want string
	}{
		{"qemu-x86_64", ""},
		{"qemu-aarch64", "trial boot of an update that hangs"},
	} {
		r, err := resolve.Resolve(cat, resolve.Design{BSP: tc.bsp, Set: []string{"SYSGEN_UPDATE"}})
		if err != nil {
			t.Fatalf("Resolve(SYSGEN_UPDATE on %s) = %v, want it to resolve", tc.bsp, err)
		}
		if _, ok := r.Lookup("SYSGEN_WATCHDOG"); !ok {
			t.Errorf("SYSGEN_UPDATE on %s does not pull SYSGEN_WATCHDOG", tc.bsp)
		}
		var buf bytes.Buffer
		warnNoWatchdog(&buf, r)
		if got := buf.String(); (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("warnNoWatchdog(%s) = %q, want it to say %q", tc.bsp, got, tc.want)
		}
	}
}

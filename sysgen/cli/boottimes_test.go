package cli

import (
	"strings"
	"testing"
	"time"
)

func TestBootBreakdown(t *testing.T) {
	var b strings.Builder
	bootBreakdown(&b, 2800*time.Millisecond,
		`{"uptime_ms":4100,"pid":1}`,
		`{"loaded":["audio","network","rng"],"skipped":{"storage":"no disk"},"failed":{},"took_ms":2100,"init_ms":{"rng":150,"network":2050,"network/dhcp":900}}`,
		`{"uptime_ms":6450,"boot":[{"name":"drivers","ms":2100},{"name":"settings","ms":3},{"name":"state","ms":40},{"name":"report","ms":2}]}`)
	got := b.String()
	for _, want := range []string{
		"after /init: 2.800 s",
		" 0.450 s  u-root init until the device init started",
		" 2.100 s  drivers (bound audio, network, rng in parallel; storage not bound)",
		"       2.050 s  driver network Init\n       0.900 s    network/dhcp\n       0.150 s  driver rng Init\n",
		" 0.003 s  settings",
		" 0.040 s  state",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("breakdown lacks %q:\n%s", want, got)
		}
	}
	b.Reset()
	bootBreakdown(&b, time.Second, `{"uptime_ms":1}`, ``, `{"uptime_ms":2}`)
	if b.Len() != 0 {
		t.Errorf("an image without the boot phases printed %q, want nothing", b.String())
	}
}

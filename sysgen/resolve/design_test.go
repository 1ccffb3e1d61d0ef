package resolve

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature"
)

// measure runs fn and returns how long it took and how many bytes it
// allocated.
func measure(fn func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	fn()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

// TestDesignLimits feeds ParseFile the documents that drove the TOML
// decoder out of memory (deep nesting, long dotted keys) and oversized
// values: each is refused with the limit in the message, in well under a
// second and with little memory.
func TestDesignLimits(t *testing.T) {
	nest := func(open, close string, n int) string {
		return "x = " + strings.Repeat(open, n) + strings.Repeat(close, n) + "\n"
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"400 KB nested arrays", nest("[", "]", 200_000), "larger than the 65536 bytes"},
		{"400 KB nested inline tables", nest("{a=", "}", 100_000), "larger than the 65536 bytes"},
		{"60 KB nested arrays", nest("[", "]", 30_000), "nested deeper than 8 levels"},
		{"60 KB nested inline tables", nest("{a=", "}", 15_000), "nested deeper than 8 levels"},
		{"60 KB dotted key", "[settings]\n" + strings.Repeat("a.", 30_000) + "a = 1\n", "more than 8 parts"},
		{"60 KB table header", "[" + strings.Repeat("a.", 30_000) + "a]\n", "more than 8 parts"},
		{"long quoted key", "[settings]\n\"" + strings.Repeat("k", 50_000) + "\" = 1\n", "longer than 128 bytes"},
		{"50 MB setting value", "[settings]\n\"msmsgs.server\" = \"" + strings.Repeat("x", 50<<20) + "\"\n", "larger than the 65536 bytes"},
		{"5 KB setting value", "[settings]\n\"msmsgs.server\" = \"" + strings.Repeat("x", 5000) + "\"\n", "a value of 5000 bytes, more than the 4096"},
		{"table as setting", "[settings]\n\"msmsgs.server\" = {host = \"x\"}\n", "settings are flat dotted keys"},
		{"table header as setting", "[settings.\"msmsgs.server\"]\nhost = \"x\"\n", "settings are flat dotted keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.doc)
			var err error
			took, alloc := measure(func() { _, err = ParseFile("osdesign.toml", data) })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseFile = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(tc.want, "8") && !errors.Is(err, feature.ErrLimit) {
				t.Errorf("ParseFile error %v does not wrap feature.ErrLimit", err)
			}
			t.Logf("%d bytes refused in %v with %d KB allocated", len(data), took, alloc>>10)
			if took > 500*time.Millisecond || alloc > 4<<20 {
				t.Errorf("refusing %d bytes took %v and %d KB; want under 500ms and 4 MB", len(data), took, alloc>>10)
			}
		})
	}
}

// TestDesignTablesHaveTableType: flags or settings given as another type
// are refused with the line, not read as an empty design.
func TestDesignTablesHaveTableType(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"bsp = \"qemu-x86_64\"\nflags = [\"SYSGEN_MESSENGER\"]\n", "osdesign.toml:2: flags must be a table, not array: write a [flags] section"},
		{"settings = 3\n", "osdesign.toml:1: settings must be a table, not integer: write a [settings] section"},
	} {
		_, err := ParseFile("osdesign.toml", []byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseFile(%q) = %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
	if _, err := ParseFile("osdesign.toml", []byte("[flags]\nSYSGEN_MESSENGER = true\n[settings]\n\"a.b\" = 1\n")); err != nil {
		t.Errorf("valid design refused: %v", err)
	}
}

package transfer

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/msgslang"
)

// testLang is the shipped en-US locale (the same text as msmsgs/strings.go).
func testLang() *msgslang.Catalog {
	return msgslang.Load(filepath.Join("..", "..", "msgslang", "locales"), "en-US", msgslang.Options{})
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"1234", 1234, true},
		{"64K", 64 << 10, true},
		{"20m", 20 << 20, true},
		{"2G", 2 << 30, true},
		{"-1", 0, false},
		{"1.5M", 0, false},
		{"M", 0, false},
		{"99999999999999999999", 0, false},
		{"9999999999G", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	tests := []struct {
		in     string
		lo, hi int
		ok     bool
	}{
		{"", 6891, 6900, true},
		{"6891-6900", 6891, 6900, true},
		{"6891", 6891, 6891, true},
		{" 7000 - 7001 ", 7000, 7001, true},
		{"6900-6891", 0, 0, false},
		{"0-10", 0, 0, false},
		{"1-65536", 0, 0, false},
		{"a-b", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			lo, hi, err := parsePortRange(tt.in, testLang())
			if (err == nil) != tt.ok || lo != tt.lo || hi != tt.hi {
				t.Errorf("parsePortRange(%q) = %d, %d, %v; want %d, %d, ok %v", tt.in, lo, hi, err, tt.lo, tt.hi, tt.ok)
			}
		})
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"", "1", "64M", "2g", "-5K", "9223372036854775807", "1KK"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err == nil && n < 0 {
			t.Errorf("ParseSize(%q) = %d, want >= 0", s, n)
		}
	})
}

func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"", "6891", "6891-6900", "1-65535", "70000", "5-4", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := parsePortRange(s, testLang())
		if err == nil && (lo < 1 || hi > 65535 || lo > hi) {
			t.Errorf("parsePortRange(%q) = %d-%d, want 1 <= lo <= hi <= 65535", s, lo, hi)
		}
	})
}

func TestRateReader(t *testing.T) {
	const size, rate = 512 << 10, 2 << 20 // 0.25 s at least
	start := time.Now()
	r := &rateReader{r: bytes.NewReader(make([]byte, size)), rate: rate, ctx: context.Background(), start: start}
	n, err := io.Copy(io.Discard, r)
	if err != nil || n != size {
		t.Fatalf("copy = %d, %v; want %d", n, err, size)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("%d bytes at %d B/s took %v, want at least 200ms", size, rate, d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = &rateReader{r: strings.NewReader(strings.Repeat("x", 1<<20)), rate: 1024, ctx: ctx, start: time.Now()}
	if _, err := io.Copy(io.Discard, r); err == nil {
		t.Errorf("copy with a cancelled context = nil error, want one")
	}
}

func TestNewConfig(t *testing.T) {
	good := Config{Downloads: "/data/dl", Ports: "7000-7009", MaxSize: "10M", Address: "192.0.2.7", AutoAccept: true, SendRate: "1M", Lang: testLang()}
	if _, err := New(good); err != nil {
		t.Errorf("New(%+v): %v", good, err)
	}
	for _, bad := range []Config{{Ports: "x"}, {MaxSize: "lots"}, {Address: "example.com"}, {SendRate: "-1"}, {}} {
		if bad.Ports != "" || bad.MaxSize != "" || bad.Address != "" || bad.SendRate != "" {
			bad.Lang = testLang()
		}
		if _, err := New(bad); err == nil {
			t.Errorf("New(%+v) = nil error, want one", bad)
		}
	}
}

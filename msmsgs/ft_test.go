package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/msmsgs/client"
)

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
			got, err := parseSize(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
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
			lo, hi, err := parsePortRange(tt.in)
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
		n, err := parseSize(s)
		if err == nil && n < 0 {
			t.Errorf("parseSize(%q) = %d, want >= 0", s, n)
		}
	})
}

func FuzzParsePortRange(f *testing.F) {
	for _, s := range []string{"", "6891", "6891-6900", "1-65535", "70000", "5-4", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := parsePortRange(s)
		if err == nil && (lo < 1 || hi > 65535 || lo > hi) {
			t.Errorf("parsePortRange(%q) = %d-%d, want 1 <= lo <= hi <= 65535", s, lo, hi)
		}
	})
}

func TestFTSettings(t *testing.T) {
	var s settings
	err := s.parseSettingsFile([]byte(`{"msmsgs.downloads":"/data/dl","msmsgs.ft_ports":"7000-7009","msmsgs.ft_max_size":"10M",
		"msmsgs.ft_address":"192.0.2.7","msmsgs.ft_auto_accept":true,"msmsgs.ft_send_rate":"1M"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := settings{Downloads: "/data/dl", FTPorts: "7000-7009", FTMaxSize: "10M", FTAddress: "192.0.2.7", FTAutoAccept: true, FTSendRate: "1M"}
	if diff := cmp.Diff(want, s, cmp.AllowUnexported(settings{}, timers{})); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if _, err := newFTManager(&s, newLogger(io.Discard, false)); err != nil {
		t.Errorf("newFTManager: %v", err)
	}
	for _, bad := range []settings{{FTPorts: "x"}, {FTMaxSize: "lots"}, {FTAddress: "example.com"}, {FTSendRate: "-1"}} {
		if _, err := newFTManager(&bad, newLogger(io.Discard, false)); err == nil {
			t.Errorf("newFTManager(%+v) = nil error, want one", bad)
		}
	}
	tests := []struct {
		s    settings
		want string
	}{
		{settings{Downloads: "/x"}, "/x"},
		{settings{StateDir: "/var/lib/m"}, "/var/lib/m/downloads"},
		{settings{}, defaultDownloads},
	}
	for _, tt := range tests {
		if got := tt.s.downloadsDir(); got != tt.want {
			t.Errorf("downloadsDir(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {20 << 20, "20.0 MiB"}, {3 << 30, "3.0 GiB"},
	}
	for _, tt := range tests {
		if got := byteSize(tt.n); got != tt.want {
			t.Errorf("byteSize(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestProgressDisplay(t *testing.T) {
	ev := client.Event{Type: evFTProgress, Cookie: 7, File: "a.bin", Bytes: 5 << 20, Total: 10 << 20}
	t.Run("terminal", func(t *testing.T) {
		var b bytes.Buffer
		p := &printer{w: &b, tty: true}
		renderEvent(p, ev)
		ev2 := ev
		ev2.Bytes = 10 << 20
		renderEvent(p, ev2)
		renderEvent(p, client.Event{Type: evFTDone, Cookie: 7, File: "a.bin", Path: "/dl/a.bin"})
		want := "\r* \"a.bin\": 5.0 MiB of 10.0 MiB (50%)\x1b[K\r* \"a.bin\": 10.0 MiB of 10.0 MiB (100%)\x1b[K\r\x1b[K* \"a.bin\": done, /dl/a.bin\n"
		if got := b.String(); got != want {
			t.Errorf("terminal output = %q, want %q", got, want)
		}
	})
	t.Run("plain", func(t *testing.T) {
		var b bytes.Buffer
		p := &printer{w: &b}
		renderEvent(p, ev)
		renderEvent(p, ev) // within plainProgressEvery: not printed
		if got, want := b.String(), "* \"a.bin\": 5.0 MiB of 10.0 MiB (50%)\n"; got != want {
			t.Errorf("plain output = %q, want %q", got, want)
		}
	})
}

func TestMatchEventCookie(t *testing.T) {
	e := client.Event{Type: evFTDone, Cookie: 12345, File: "Report.PDF"}
	tests := []struct {
		filters []string
		want    bool
	}{
		{[]string{"cookie=12345"}, true},
		{[]string{"cookie=1234"}, false},
		{[]string{"file=report.pdf"}, true},
		{[]string{"cookie=12345", "file=x"}, false},
	}
	for _, tt := range tests {
		if err := validFilters(tt.filters); err != nil {
			t.Fatalf("validFilters(%v) = %v", tt.filters, err)
		}
		if got := matchEvent(e, evFTDone, tt.filters); got != tt.want {
			t.Errorf("matchEvent(%v) = %v, want %v", tt.filters, got, tt.want)
		}
	}
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

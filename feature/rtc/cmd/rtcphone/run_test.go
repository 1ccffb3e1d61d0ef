package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
)

func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of run.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.String()
}

func TestCall(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			dir := t.TempDir()
			port := freePort(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			rec := filepath.Join(dir, "heard.wav")
			ansOut := newSyncBuffer()
			ansErr := make(chan error, 1)
			go func() {
				ansErr <- run(ctx, []string{"-listen", fmt.Sprintf("127.0.0.1:%d", port), "-tone", "1000", "-expect-tone", "440",
					"-record", rec, "-media-ports", "40000-40999", "-timeout", "20s"}, nil, ansOut, ansOut)
			}()
			// Wait for the answering side to listen.
			deadline := time.Now().Add(10 * time.Second)
			for !strings.Contains(ansOut.String(), "waiting for a call") {
				if time.Now().After(deadline) {
					t.Fatalf("answering rtcphone did not start: %s", ansOut.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			dialOut := newSyncBuffer()
			err := run(ctx, []string{"-listen", "127.0.0.1:0", "-dial", fmt.Sprintf("sip:rtc@127.0.0.1:%d", port), "-transport", transport,
				"-tone", "440", "-expect-tone", "1000", "-duration", "1500ms", "-stats", "500ms", "-json", "-media-ports", "41000-41999"}, nil, dialOut, dialOut)
			if err != nil {
				t.Fatalf("dialing run() = %v\n%s", err, dialOut.String())
			}
			if !strings.Contains(dialOut.String(), `"ok": true`) || !strings.Contains(dialOut.String(), "stats: codec=PCMU") {
				t.Errorf("dialing output lacks ok JSON or periodic stats:\n%s", dialOut.String())
			}
			select {
			case err := <-ansErr:
				if err != nil {
					t.Fatalf("answering run() = %v\n%s", err, ansOut.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("answering rtcphone did not end after the BYE")
			}
			samples, err := audio.ReadWAV(rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(samples) < 8000 || !audio.DominantTone(samples, 440, []float64{1000, 700}, 10) {
				t.Errorf("recording %s: %d samples without the 440 Hz tone", rec, len(samples))
			}
		})
	}
}

func TestFailures(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	for _, tc := range []struct {
		name      string
		args      []string
		wantUsage bool
	}{
		{"bad flag", []string{"-nope"}, true},
		{"bad transport", []string{"-transport", "sctp"}, true},
		{"bad ports", []string{"-media-ports", "5-1"}, true},
		{"stray argument", []string{"extra"}, true},
		{"missing wav", []string{"-play", "/nonexistent.wav"}, false},
		{"nobody answers", []string{"-listen", "127.0.0.1:0", "-dial", fmt.Sprintf("sip:x@127.0.0.1:%d", freePort(t)), "-timeout", "1s", "-transport", "tcp"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(ctx, tc.args, nil, &out, &out)
			if err == nil {
				t.Fatalf("run(%v) = nil, want an error", tc.args)
			}
			var ue usageError
			if errors.As(err, &ue) != tc.wantUsage {
				t.Errorf("run(%v) = %v, usage error %v, want %v", tc.args, err, !tc.wantUsage, tc.wantUsage)
			}
		})
	}
}

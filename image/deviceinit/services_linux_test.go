package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a goroutine-safe bytes sink.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSuperviseRestarts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuf
	supervise(ctx, []service{
		{Name: "flaky", Argv: []string{"/bin/sh", "-c", "echo tick; exit 3"}, Restart: true},
		{Name: "once", Argv: []string{"/bin/sh", "-c", "exit 0"}},
	}, &out, &out)
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(out.String(), "SERVICE flaky: started") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("service was not restarted within 30s; console:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for !strings.Contains(out.String(), "SERVICE once: exited (exit 0), not restarting") {
		if time.Now().After(deadline) {
			t.Fatalf("one-shot service exit not logged; console:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s := out.String()
	if !strings.Contains(s, "SERVICE flaky: exited (exit status 3)") || !strings.Contains(s, "tick") {
		t.Errorf("console = %q, want the exit status and the program's output", s)
	}
	if strings.Count(s, "SERVICE once: started") != 1 {
		t.Errorf("one-shot service started %d times, want 1", strings.Count(s, "SERVICE once: started"))
	}
}

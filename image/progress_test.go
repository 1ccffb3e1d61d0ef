package image

import (
	"bytes"
	"strings"
	"testing"
)

func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.Step("go: building %d commands", 3)
	p.Step("image: compressing")
	p.End()
	p.End()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"go: building 3 commands", "go: building 3 commands: done in", "image: compressing", "image: compressing: done in"}
	if len(lines) != len(want) {
		t.Fatalf("progress lines = %q, want %d lines", lines, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	if strings.Contains(buf.String(), "\r") || strings.Contains(buf.String(), "\033") {
		t.Errorf("progress to a non-terminal has control characters: %q", buf.String())
	}
	var nilP *progress
	nilP.Step("x")
	nilP.End()
}

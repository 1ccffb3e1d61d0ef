package testenv

import (
	"os/exec"
	"testing"
)

func TestToolFindsSh(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatalf("no sh on this machine: %v", err)
	}
	if p := Tool(t, "sh", "apt-get install dash"); p == "" {
		t.Fatalf("Tool(sh) = %q, want a path", p)
	}
}

func TestInCI(t *testing.T) {
	t.Setenv("CI", "true")
	if !InCI() {
		t.Fatalf("InCI() = false with CI=true")
	}
	t.Setenv("CI", "")
	if InCI() {
		t.Fatalf("InCI() = true with CI empty")
	}
}

// Package testenv decides what a test does when something it needs from the
// machine (a tool, a kernel, a peer server) is missing: on a laptop it
// skips with a message saying how to install it; under CI=true it fails, so
// CI never passes on a skip.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the test runs in CI (CI=true in the environment).
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips t with the reason, or fails it under CI=true. Use it only
// for something missing from the machine, never for a test that is off by
// choice (-short).
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("missing under CI=true: %s", msg)
	}
	t.Skip(msg)
}

// Tool returns the path of program name, or calls Missing with the install
// hint (e.g. "apt-get install qemu-system-x86").
func Tool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, "%s not found: %s", name, install)
	}
	return p
}

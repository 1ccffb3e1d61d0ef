// Package sysfstest builds fake sysfs trees in a temp folder for driver
// tests: inject the folder as the driver's sysfs root, no global mocks.
package sysfstest

import (
	"os"
	"path/filepath"
	"testing"
)

// AddDevice adds root/bus/BUS/devices/NAME with the given modalias.
func AddDevice(t testing.TB, root, bus, name, modalias string) {
	t.Helper()
	dir := filepath.Join(root, "bus", bus, "devices", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modalias"), []byte(modalias+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

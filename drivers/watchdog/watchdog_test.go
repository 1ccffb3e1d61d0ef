package watchdog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// pciTree writes a fake sysfs PCI device.
func pciTree(t *testing.T, root, name, modalias string) {
	t.Helper()
	d := filepath.Join(root, "bus", "pci", "devices", name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "modalias"), []byte(modalias+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInitBindsI6300ESB(t *testing.T) {
	root, dev := t.TempDir(), t.TempDir()
	pciTree(t, root, "0000:00:01.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
	pciTree(t, root, "0000:00:05.0", "pci:v00008086d000025ABsv00001AF4sd00001100bc08sc80i00")
	var loaded []string
	var armedWith string
	want := &Dev{timeout: 300 * time.Second}
	d := &Driver{SysRoot: root, DevDir: dev, Timeout: 2 * time.Second, Load: func(names ...string) ([]string, error) {
		loaded = append(loaded, names...)
		os.WriteFile(filepath.Join(dev, "watchdog"), nil, 0o600) // the kernel creates it
		return names, nil
	}, Arm: func(p string, timeout time.Duration) (*Dev, error) {
		armedWith = fmt.Sprintf("%s %v", filepath.Base(p), timeout)
		return want, nil
	}}
	ok, err := d.Init()
	if !ok || err != nil {
		t.Fatalf("Init() = %v, %v, want true, nil", ok, err)
	}
	if !slices.Equal(loaded, []string{"i6300esb"}) {
		t.Errorf("loaded %v, want [i6300esb]", loaded)
	}
	if armedWith != "watchdog 5m0s" || Armed() != want {
		t.Errorf("Init armed %q (Armed() = %p), want watchdog 5m0s with the default boot timeout (%p)", armedWith, Armed(), want)
	}
}

func TestInitSkipsWithoutTimer(t *testing.T) {
	root := t.TempDir()
	pciTree(t, root, "0000:00:01.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
	d := &Driver{SysRoot: root, DevDir: t.TempDir(), Timeout: time.Second, Load: func(names ...string) ([]string, error) {
		t.Errorf("Load(%v) on a board without a watchdog", names)
		return nil, nil
	}}
	ok, err := d.Init()
	if ok || !errors.Is(err, ErrNoWatchdog) {
		t.Fatalf("Init() = %v, %v, want false, ErrNoWatchdog", ok, err)
	}
}

func TestInitNoDeviceNode(t *testing.T) {
	root := t.TempDir()
	pciTree(t, root, "0000:00:05.0", "pci:v00008086d000025ABsv00001AF4sd00001100bc08sc80i00")
	d := &Driver{SysRoot: root, DevDir: t.TempDir(), Timeout: 100 * time.Millisecond, Load: func(names ...string) ([]string, error) { return names, nil }}
	ok, err := d.Init()
	if !ok || !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Init() = %v, %v, want true, ErrNoDevice", ok, err)
	}
}

func TestSecondsAndKick(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {300 * time.Millisecond, 1}, {30 * time.Second, 30}, {90*time.Second + time.Millisecond, 91}} {
		if got := Seconds(tc.d); got != tc.want {
			t.Errorf("Seconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
	if got := KickInterval(30 * time.Second); got != 10*time.Second {
		t.Errorf("KickInterval(30s) = %v, want 10s", got)
	}
	if got := KickInterval(time.Second); got != 500*time.Millisecond {
		t.Errorf("KickInterval(1s) = %v, want 500ms", got)
	}
}

package rng

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/drivers/sysfs/sysfstest"
)

func TestInit(t *testing.T) {
	for _, tt := range []struct {
		name       string
		devs       [][3]string
		readyAfter int // calls to Ready before it returns true; -1 never
		wantOK     bool
		wantErr    error
		wantLoad   [][]string
	}{
		{"virtio-rng-pci", [][3]string{{"pci", "0000:00:05.0", "pci:v00001AF4d00001005sv00001AF4sd00000004bc00scFFi00"}}, 3, true, nil, [][]string{{"virtio_pci", "virtio_rng"}}},
		{"virtio-rng on mmio", [][3]string{{"virtio", "virtio2", "virtio:d00000004v554D4551"}}, 1, true, nil, [][]string{{"virtio_rng"}}},
		{"virtio-rng-pci, pool already ready", [][3]string{{"pci", "0000:00:05.0", "pci:v00001AF4d00001005sv00001AF4sd00000004bc00scFFi00"}}, 0, false, ErrPoolReady, nil},
		{"none, pool not ready", nil, -1, false, ErrNotSeeded, nil},
		{"none, pool ready", nil, 0, false, nil, nil},
		{"bound but never ready", [][3]string{{"virtio", "virtio2", "virtio:d00000004v554D4551"}}, -1, true, errAny, [][]string{{"virtio_rng"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tt.devs {
				sysfstest.AddDevice(t, root, d[0], d[1], d[2])
			}
			calls := 0
			var loads [][]string
			timeout := 30 * time.Second // generous: only the never-ready case waits it out
			if tt.readyAfter < 0 {
				timeout = 100 * time.Millisecond
			}
			d := &Driver{SysRoot: root, Timeout: timeout,
				Load:  func(n ...string) ([]string, error) { loads = append(loads, n); return n, nil },
				Ready: func() bool { calls++; return tt.readyAfter >= 0 && calls > tt.readyAfter }}
			ok, err := d.Init()
			if ok != tt.wantOK {
				t.Errorf("Init() ok = %v, want %v (err %v)", ok, tt.wantOK, err)
			}
			switch {
			case tt.wantErr == errAny:
				if err == nil {
					t.Errorf("Init() err = nil, want an error")
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Init() err = %v, want %v", err, tt.wantErr)
				}
			case ok && err != nil:
				t.Errorf("Init() err = %v, want nil", err)
			}
			if d := cmp.Diff(tt.wantLoad, loads); d != "" {
				t.Errorf("loads mismatch (-want +got):\n%s", d)
			}
		})
	}
}

var errAny = errors.New("any error")

func TestInitLoadsVirtioMMIO(t *testing.T) {
	root := t.TempDir()
	sysfstest.AddDevice(t, root, "platform", "a000000.virtio_mmio", "of:NvirtioT(null)Cvirtio,mmio")
	var loads [][]string
	ready := false // not seeded, so the device is bound
	d := &Driver{SysRoot: root, Timeout: 30 * time.Second, Ready: func() bool { r := ready; ready = true; return r },
		Load: func(n ...string) ([]string, error) {
			loads = append(loads, n)
			if n[0] == "virtio_mmio" {
				sysfstest.AddDevice(t, root, "virtio", "virtio1", "virtio:d00000004v554D4551")
			}
			return n, nil
		}}
	if ok, err := d.Init(); !ok || err != nil {
		t.Fatalf("Init() = %v, %v, want true, nil", ok, err)
	}
	if want := [][]string{{"virtio_mmio"}, {"virtio_rng"}}; !cmp.Equal(loads, want) {
		t.Errorf("loads = %q, want %q", loads, want)
	}
}

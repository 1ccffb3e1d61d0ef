package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/drivers/sysfs/sysfstest"
)

func TestInit(t *testing.T) {
	for _, tt := range []struct {
		name     string
		dev      [3]string // bus, name, modalias; empty: no disk
		node     bool      // a /dev/vda node appears
		wantOK   bool
		wantErr  error
		wantLoad [][]string
	}{
		{"virtio-blk-pci", [3]string{"pci", "0000:00:06.0", "pci:v00001AF4d00001001sv00001AF4sd00000002bc01sc00i00"}, true, true, nil, [][]string{{"virtio_pci"}, {"virtio_blk"}, {"crc32c_generic"}, {"ext4"}}},
		{"virtio-blk on mmio", [3]string{"virtio", "virtio3", "virtio:d00000002v554D4551"}, true, true, nil, [][]string{{"virtio_blk"}, {"crc32c_generic"}, {"ext4"}}},
		{"no disk", [3]string{}, false, false, nil, nil},
		{"bound, no node", [3]string{"pci", "0000:00:06.0", "pci:v00001AF4d00001042sv00001AF4sd00001100bc01sc00i00"}, false, true, ErrNoNode, [][]string{{"virtio_pci"}, {"virtio_blk"}, {"crc32c_generic"}, {"ext4"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, dev := t.TempDir(), t.TempDir()
			if tt.dev[0] != "" {
				sysfstest.AddDevice(t, root, tt.dev[0], tt.dev[1], tt.dev[2])
			}
			if tt.node {
				if err := os.WriteFile(filepath.Join(dev, "vda"), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var loaded [][]string
			d := &Driver{SysRoot: root, DevDir: dev, Timeout: 100 * time.Millisecond,
				Load: func(n ...string) ([]string, error) { loaded = append(loaded, n); return n, nil }}
			ok, err := d.Init()
			if ok != tt.wantOK {
				t.Errorf("Init() ok = %v, want %v (err %v)", ok, tt.wantOK, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) || tt.wantErr == nil && tt.wantOK && err != nil {
				t.Errorf("Init() err = %v, want %v", err, tt.wantErr)
			}
			if !tt.wantOK && err == nil {
				t.Error("Init() skipped without a reason")
			}
			if diff := cmp.Diff(tt.wantLoad, loaded); diff != "" {
				t.Errorf("modules loaded (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWaitNodeWakes has the node appear while Init waits: the wait ends
// soon after, well before the timeout.
func TestWaitNodeWakes(t *testing.T) {
	dev := t.TempDir()
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.WriteFile(filepath.Join(dev, "vdb"), nil, 0o600)
	}()
	start := time.Now()
	if !waitNode(dev, "vd[a-z]", 30*time.Second) {
		t.Fatal("waitNode() = false, want true once vdb appeared")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("waitNode took %v after the node appeared at 100ms", took)
	}
	if waitNode(dev, "sd[a-z]", 50*time.Millisecond) {
		t.Error("waitNode(sd[a-z]) = true with no such node")
	}
}

package bcm2835

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOFCompatible(t *testing.T) {
	for _, tc := range []struct {
		alias, c string
		want     bool
	}{
		{"of:NmailboxT(null)Cbrcm,bcm2836-vchiqCbrcm,bcm2835-vchiq", Compatible, true},
		{"of:NmailboxT(null)Cbrcm,bcm2835-vchiq", Compatible, true},
		{"of:NmailboxT(null)Cbrcm,bcm2835-vchiqxCfoo", Compatible, false},
		{"of:NmailboxT(null)Cbrcm,bcm2836-vchiq", Compatible, false},
		{"of:Nbrcm,bcm2835-vchiqT(null)", Compatible, false},
		{"platform:bcm2835_audio", Compatible, false},
		{"", Compatible, false},
	} {
		if got := OFCompatible(tc.alias, tc.c); got != tc.want {
			t.Errorf("OFCompatible(%q, %q) = %v, want %v", tc.alias, tc.c, got, tc.want)
		}
	}
}

func FuzzOFCompatible(f *testing.F) {
	f.Add("of:NmailboxT(null)Cbrcm,bcm2836-vchiqCbrcm,bcm2835-vchiq", Compatible)
	f.Add("of:NT", "x")
	f.Fuzz(func(t *testing.T, alias, c string) {
		if len(alias) > 4096 {
			return
		}
		if OFCompatible(alias, c) && !strings.Contains(alias, c) {
			t.Fatalf("OFCompatible(%q, %q) = true, but the alias does not hold it", alias, c)
		}
	})
}

// tree makes a sysfs root with platform devices name -> modalias.
func tree(t *testing.T, devs map[string]string) string {
	root := t.TempDir()
	for name, alias := range devs {
		d := filepath.Join(root, "bus", "platform", "devices", name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "modalias"), []byte(alias+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestInit(t *testing.T) {
	pi := map[string]string{
		"3f00b840.mailbox": "of:NmailboxT(null)Cbrcm,bcm2836-vchiqCbrcm,bcm2835-vchiq",
		"3f980000.usb":     "of:NusbT(null)Cbrcm,bcm2835-usb",
	}
	t.Run("no node", func(t *testing.T) {
		d := &Driver{SysRoot: tree(t, map[string]string{"3f980000.usb": pi["3f980000.usb"]}), DevRoot: t.TempDir(),
			Load: func(...string) ([]string, error) { t.Fatal("loaded modules without the hardware"); return nil, nil }}
		if ok, err := d.Init(); ok || !errors.Is(err, ErrNoHardware) {
			t.Errorf("Init() = %v, %v; want false, ErrNoHardware", ok, err)
		}
	})
	t.Run("pcm appears", func(t *testing.T) {
		dev := t.TempDir()
		var loaded []string
		d := &Driver{SysRoot: tree(t, pi), DevRoot: dev, PCMTimeout: 5 * time.Second,
			Load: func(names ...string) ([]string, error) {
				loaded = names
				if err := os.MkdirAll(filepath.Join(dev, "snd"), 0o755); err != nil {
					return nil, err
				}
				return names, os.WriteFile(filepath.Join(dev, "snd", "pcmC0D0p"), nil, 0o644)
			}}
		if ok, err := d.Init(); !ok || err != nil {
			t.Fatalf("Init() = %v, %v; want true, nil", ok, err)
		}
		if strings.Join(loaded, ",") != "vchiq,snd_bcm2835" {
			t.Errorf("loaded %v, want vchiq then snd_bcm2835", loaded)
		}
		b := Bound()
		if len(b) != 1 || b[0].Device != "3f00b840.mailbox" || len(b[0].Playback) != 1 {
			t.Errorf("Bound() = %+v", b)
		}
	})
	t.Run("no firmware", func(t *testing.T) {
		d := &Driver{SysRoot: tree(t, pi), DevRoot: t.TempDir(), PCMTimeout: 10 * time.Second,
			Load: func(names ...string) ([]string, error) { return names, nil }}
		start := time.Now()
		ok, err := d.Init()
		if !ok || !errors.Is(err, ErrNoPCM) || !strings.Contains(err.Error(), "did not bind") {
			t.Errorf("Init() = %v, %v; want true, ErrNoPCM saying vchiq did not bind", ok, err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("Init took %v with an unbound node; want it to give up after a fifth of the timeout", time.Since(start))
		}
	})
	t.Run("bound, no card", func(t *testing.T) {
		root := tree(t, pi)
		node := filepath.Join(root, "bus", "platform", "devices", "3f00b840.mailbox")
		if err := os.Symlink("../../../bus/platform/drivers/bcm2835_vchiq", filepath.Join(node, "driver")); err != nil {
			t.Fatal(err)
		}
		d := &Driver{SysRoot: root, DevRoot: t.TempDir(), PCMTimeout: 100 * time.Millisecond,
			Load: func(names ...string) ([]string, error) { return names, nil }}
		if ok, err := d.Init(); !ok || !errors.Is(err, ErrNoPCM) || !strings.Contains(err.Error(), "made no card") {
			t.Errorf("Init() = %v, %v; want true, ErrNoPCM saying no card", ok, err)
		}
	})
}

package audio

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakePCI adds a PCI device with a modalias to a fake sysfs tree.
func fakePCI(t *testing.T, root, bus, name, modalias string) {
	t.Helper()
	dir := filepath.Join(root, "bus", bus, "devices", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modalias"), []byte(modalias+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	fakePCI(t, root, "pci", "0000:00:03.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00") // virtio-net
	fakePCI(t, root, "pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00") // intel-hda
	fakePCI(t, root, "pci", "0000:00:1b.0", "pci:v00008086d0000293Esv00001AF4sd00001100bc04sc03i00") // ich9-intel-hda
	fakePCI(t, root, "pci", "0000:00:05.0", "pci:v00001AF4d00001059sv00001AF4sd00001100bc04sc01i00") // virtio-snd-pci
	fakePCI(t, root, "virtio", "virtio3", "virtio:d00000019v554D4551")                               // virtio-snd on mmio
	fakePCI(t, root, "virtio", "virtio0", "virtio:d00000001v554D4551")                               // virtio-net on mmio
	got, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Name, Kind string
		Modules    []string
	}
	var rows []row
	for _, h := range got {
		rows = append(rows, row{h.Name, h.Kind, h.Modules})
	}
	want := []row{
		{"0000:00:04.0", "hda", []string{"snd_hda_codec_generic", "snd_hda_intel"}},
		{"0000:00:05.0", "virtio-snd", []string{"virtio_pci", "virtio_snd"}},
		{"0000:00:1b.0", "hda", []string{"snd_hda_codec_generic", "snd_hda_intel"}},
		{"virtio3", "virtio-snd", []string{"virtio_snd"}},
	}
	if d := cmp.Diff(want, rows); d != "" {
		t.Errorf("Find mismatch (-want +got):\n%s", d)
	}
}

func TestDriverInit(t *testing.T) {
	t.Run("skipped without hardware", func(t *testing.T) {
		root := t.TempDir()
		fakePCI(t, root, "pci", "0000:00:03.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
		d := &Driver{SysRoot: root, DevRoot: t.TempDir(), Load: func(...string) ([]string, error) {
			t.Errorf("Load called without audio hardware")
			return nil, nil
		}}
		ok, err := d.Init()
		if ok || !errors.Is(err, ErrNoHardware) {
			t.Errorf("Init() = %v, %v, want false, ErrNoHardware", ok, err)
		}
	})
	t.Run("binds hda", func(t *testing.T) {
		root, dev := t.TempDir(), t.TempDir()
		fakePCI(t, root, "pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00")
		var asked [][]string
		d := &Driver{SysRoot: root, DevRoot: dev, PCMTimeout: 30 * time.Second, Load: func(names ...string) ([]string, error) {
			asked = append(asked, names)
			// The kernel registers the PCMs in sysfs while the modules
			// probe; devtmpfs adds the capture node a little later.
			os.MkdirAll(filepath.Join(dev, "snd"), 0o755)
			for _, n := range []string{"pcmC0D0p", "pcmC0D0c", "controlC0"} {
				os.MkdirAll(filepath.Join(root, "class", "sound", n), 0o755)
			}
			os.WriteFile(filepath.Join(dev, "snd", "pcmC0D0p"), nil, 0o644)
			go func() {
				time.Sleep(100 * time.Millisecond) // simulated devtmpfs delay, not synchronisation
				os.WriteFile(filepath.Join(dev, "snd", "pcmC0D0c"), nil, 0o644)
				time.Sleep(100 * time.Millisecond)
				os.WriteFile(filepath.Join(dev, "snd", "controlC0"), nil, 0o644)
			}()
			return names, nil
		}, Mixer: func(card int) ([]string, error) {
			if card != 0 {
				t.Errorf("Mixer(card %d), want card 0", card)
			}
			if _, err := os.Stat(filepath.Join(dev, "snd", "controlC0")); err != nil {
				t.Errorf("Mixer called before the control node appeared: %v", err)
			}
			return []string{"Master Playback Switch"}, nil
		}}
		ok, err := d.Init()
		if !ok || err != nil {
			t.Fatalf("Init() = %v, %v, want true, nil", ok, err)
		}
		if d := cmp.Diff([][]string{{"snd_hda_codec_generic", "snd_hda_intel"}}, asked); d != "" {
			t.Errorf("modules loaded mismatch (-want +got):\n%s", d)
		}
		b := Bound()
		if len(b) != 1 || !cmp.Equal(b[0].Playback, []string{filepath.Join(dev, "snd", "pcmC0D0p")}) || !cmp.Equal(b[0].Capture, []string{filepath.Join(dev, "snd", "pcmC0D0c")}) {
			t.Errorf("Bound() = %+v, want one binding with pcmC0D0p and pcmC0D0c", b)
		}
	})
	t.Run("waits for the control registered after the PCMs", func(t *testing.T) {
		// The kernel registers a card's control device last: for a moment
		// sysfs and /dev have every PCM and no controlC0.
		root, dev := t.TempDir(), t.TempDir()
		fakePCI(t, root, "pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00")
		d := &Driver{SysRoot: root, DevRoot: dev, PCMTimeout: 30 * time.Second, Load: func(names ...string) ([]string, error) {
			os.MkdirAll(filepath.Join(dev, "snd"), 0o755)
			for _, n := range []string{"pcmC0D0p", "pcmC0D0c"} {
				os.MkdirAll(filepath.Join(root, "class", "sound", n), 0o755)
				os.WriteFile(filepath.Join(dev, "snd", n), nil, 0o644)
			}
			go func() {
				time.Sleep(100 * time.Millisecond) // simulated card registration, not synchronisation
				os.MkdirAll(filepath.Join(root, "class", "sound", "controlC0"), 0o755)
				os.WriteFile(filepath.Join(dev, "snd", "controlC0"), nil, 0o644)
			}()
			return names, nil
		}, Mixer: func(card int) ([]string, error) {
			if _, err := os.Stat(filepath.Join(dev, "snd", "controlC0")); err != nil {
				t.Errorf("Mixer called before the control node appeared: %v", err)
			}
			return []string{"Master Playback Switch"}, nil
		}}
		if ok, err := d.Init(); !ok || err != nil {
			t.Fatalf("Init() = %v, %v, want true, nil", ok, err)
		}
	})
	t.Run("fails when no PCM appears", func(t *testing.T) {
		root := t.TempDir()
		fakePCI(t, root, "pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00")
		d := &Driver{SysRoot: root, DevRoot: t.TempDir(), PCMTimeout: 50 * time.Millisecond, Load: func(names ...string) ([]string, error) { return names, nil }}
		if ok, err := d.Init(); !ok || err == nil {
			t.Errorf("Init() = %v, %v, want true, error", ok, err)
		}
	})
	t.Run("fails when loading fails", func(t *testing.T) {
		root := t.TempDir()
		fakePCI(t, root, "pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00")
		boom := errors.New("boom")
		d := &Driver{SysRoot: root, DevRoot: t.TempDir(), Load: func(...string) ([]string, error) { return nil, boom }}
		if ok, err := d.Init(); !ok || !errors.Is(err, boom) {
			t.Errorf("Init() = %v, %v, want true, boom", ok, err)
		}
	})
}

func TestTone(t *testing.T) {
	s := Tone(1000, 500*time.Millisecond, 8000, 1, 0.5)
	if len(s) != 4000 {
		t.Fatalf("len(Tone(1 kHz, 0.5 s, 8 kHz mono)) = %d, want 4000", len(s))
	}
	if s[0] != 0 || s[len(s)-1] != 0 {
		t.Errorf("Tone ends = %d, %d, want 0, 0 (faded)", s[0], s[len(s)-1])
	}
	// Goertzel at 1 kHz vs 1.5 kHz.
	g := func(f float64) float64 {
		w := 2 * math.Pi * f / 8000
		var q1, q2 float64
		for _, v := range s {
			q0 := 2*math.Cos(w)*q1 - q2 + float64(v)/32768
			q2, q1 = q1, q0
		}
		return 2 * math.Hypot(q1-q2*math.Cos(w), q2*math.Sin(w)) / float64(len(s))
	}
	if a := g(1000); math.Abs(a-0.5) > 0.02 {
		t.Errorf("Tone amplitude at 1 kHz = %.3f, want 0.5", a)
	}
	if a := g(1500); a > 0.01 {
		t.Errorf("Tone amplitude at 1.5 kHz = %.3f, want ~0", a)
	}
	st := Tone(440, 10*time.Millisecond, 48000, 2, 0.5)
	for i := 0; i < len(st); i += 2 {
		if st[i] != st[i+1] {
			t.Fatalf("stereo Tone frame %d = %d, %d, want equal channels", i/2, st[i], st[i+1])
		}
	}
}

func TestBytesSamples(t *testing.T) {
	s := []int16{0, 1, -1, 32767, -32768}
	b := samplesToBytes(nil, s)
	if want := []byte{0, 0, 1, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0x80}; !cmp.Equal(b, want) {
		t.Errorf("samplesToBytes(%v) = %v, want %v", s, b, want)
	}
	if got := bytesToSamples(nil, b); !cmp.Equal(got, s) {
		t.Errorf("bytesToSamples(%v) = %v, want %v", b, got, s)
	}
}

func TestBindingString(t *testing.T) {
	var b Binding
	b.Hardware.Kind, b.Hardware.Bus, b.Hardware.Name, b.Hardware.Vendor, b.Hardware.Device.Device = "hda", "pci", "0000:00:05.0", 0x8086, 0x2668
	b.Loaded, b.Playback = []string{"snd_hda_intel"}, []string{"/dev/snd/pcmC0D0p"}
	b.Mixer = []string{"Master Playback Switch", "PCM Playback Volume"}
	want := "audio: hda (pci 0000:00:05.0 8086:2668) modules [snd_hda_intel] playback [/dev/snd/pcmC0D0p] capture [] mixer [Master Playback Switch, PCM Playback Volume]"
	if got := b.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestCards(t *testing.T) {
	got := Cards([]string{"/dev/snd/pcmC1D0p", "/dev/snd/pcmC0D3p", "/dev/snd/pcmC0D0p", "/dev/snd/controlC0", "junk"})
	if want := []int{0, 1}; !cmp.Equal(got, want) {
		t.Errorf("Cards = %v, want %v", got, want)
	}
}

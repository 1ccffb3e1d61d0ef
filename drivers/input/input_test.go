package input

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func record(typ, code uint16, val int32) []byte {
	b := make([]byte, EventSize)
	binary.LittleEndian.PutUint16(b[16:], typ)
	binary.LittleEndian.PutUint16(b[18:], code)
	binary.LittleEndian.PutUint32(b[20:], uint32(val))
	return b
}

func TestKeyboardTypes(t *testing.T) {
	var stream []byte
	for _, e := range []Event{{EvKey, KeyLeftShift, 1}, {EvKey, 35, 1}, {EvKey, 35, 0}, {EvKey, KeyLeftShift, 0},
		{EvKey, 23, 1}, {EvKey, 23, 0}, {EvSyn, 0, 0}, {EvKey, KeyLeftShift, 1}, {EvKey, 2, 1}, {EvKey, KeyEnter, 1}} {
		stream = append(stream, record(e.Type, e.Code, e.Value)...)
	}
	evs, rest := ParseEvents(append(stream, 1, 2, 3))
	if len(rest) != 3 || len(evs) != 10 {
		t.Fatalf("ParseEvents: %d events, %d bytes left, want 10 and 3", len(evs), len(rest))
	}
	var k Keyboard
	var got []rune
	var codes []uint16
	for _, e := range evs {
		if p, ok := k.Feed(e); ok {
			got = append(got, p.Rune)
			codes = append(codes, p.Code)
		}
	}
	if string(got) != "Hi!\x00" || codes[3] != KeyEnter {
		t.Errorf("typed %q codes %v, want \"Hi!\\x00\" ending in Enter", string(got), codes)
	}
}

func FuzzParseEvents(f *testing.F) {
	f.Add(record(EvKey, 30, 1))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, rest := ParseEvents(b)
		if len(evs)*EventSize+len(rest) != len(b) || len(rest) >= EventSize {
			t.Fatalf("%d events + %d bytes from %d", len(evs), len(rest), len(b))
		}
		var k Keyboard
		for _, e := range evs {
			k.Feed(e)
		}
	})
}

func TestInitLoadsVirtioInput(t *testing.T) {
	root, dev := t.TempDir(), t.TempDir()
	for _, n := range []string{"0000:00:04.0", "0000:00:05.0"} {
		d := filepath.Join(root, "bus", "pci", "devices", n)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "modalias"), []byte("pci:v00001AF4d00001052sv00001AF4sd00001100bc09sc80i00\n"), 0o644)
	}
	var loaded []string
	drv := &Driver{SysRoot: root, DevDir: dev, Timeout: 2 * time.Second, Load: func(names ...string) ([]string, error) {
		loaded = append(loaded, names...)
		os.MkdirAll(filepath.Join(dev, "input"), 0o755)
		os.WriteFile(filepath.Join(dev, "input", "event0"), nil, 0o644)
		os.WriteFile(filepath.Join(dev, "input", "event1"), nil, 0o644)
		return names, nil
	}}
	if ok, err := drv.Init(); !ok || err != nil {
		t.Fatalf("Init() = %v, %v", ok, err)
	}
	if !slices.Equal(loaded, []string{"virtio_pci", "virtio_input", "evdev"}) {
		t.Errorf("loaded %v, want virtio_pci virtio_input evdev", loaded)
	}
}

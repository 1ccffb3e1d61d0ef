package sysfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FakePCI writes a PCI device into a fake sysfs tree like the kernel does.
func fakeDev(t *testing.T, root, bus, name string, files map[string]string, driver string) {
	t.Helper()
	dev := filepath.Join(root, "devices", name)
	if err := os.MkdirAll(dev, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range files {
		if err := os.WriteFile(filepath.Join(dev, k), []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if driver != "" {
		d := filepath.Join(root, "bus", bus, "drivers", driver)
		os.MkdirAll(d, 0o755)
		if err := os.Symlink(d, filepath.Join(dev, "driver")); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "bus", bus, "devices")
	os.MkdirAll(link, 0o755)
	if err := os.Symlink(dev, filepath.Join(link, name)); err != nil {
		t.Fatal(err)
	}
}

func TestDevices(t *testing.T) {
	root := t.TempDir()
	fakeDev(t, root, "pci", "0000:00:03.0", map[string]string{"vendor": "0x1af4", "device": "0x1000", "class": "0x020000",
		"modalias": "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"}, "virtio-pci")
	fakeDev(t, root, "pci", "0000:00:04.0", map[string]string{"modalias": "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00"}, "")
	fakeDev(t, root, "virtio", "virtio0", map[string]string{"device": "0x0001", "vendor": "0x1af4", "modalias": "virtio:d00000001v00001AF4"}, "")
	got, err := Devices(root, "pci")
	if err != nil {
		t.Fatal(err)
	}
	want := []Device{
		{Bus: "pci", Name: "0000:00:03.0", Vendor: 0x1af4, Device: 0x1000, Class: 0x020000, Modalias: "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", Driver: "virtio-pci"},
		{Bus: "pci", Name: "0000:00:04.0", Vendor: 0x8086, Device: 0x2668, Class: 0x040300, Modalias: "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Devices(pci) mismatch (-want +got):\n%s", d)
	}
	got, err = Devices(root, "virtio")
	if err != nil {
		t.Fatal(err)
	}
	want = []Device{{Bus: "virtio", Name: "virtio0", Vendor: 0x1af4, Device: 1, Modalias: "virtio:d00000001v00001AF4"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Devices(virtio) mismatch (-want +got):\n%s", d)
	}
	if got, err := Devices(root, "usb"); err != nil || got != nil {
		t.Errorf("Devices(usb) = %v, %v, want nil, nil", got, err)
	}
}

func TestDevicesBadNumber(t *testing.T) {
	root := t.TempDir()
	fakeDev(t, root, "pci", "0000:00:05.0", map[string]string{"vendor": "zzz"}, "")
	if _, err := Devices(root, "pci"); err == nil {
		t.Errorf("Devices(bad vendor) = nil error, want error")
	}
}

func TestParsePCIModalias(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    PCIAlias
		wantErr bool
	}{
		{"pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00", PCIAlias{0x1af4, 0x1041, 0x1af4, 0x1100, 0x020000}, false},
		{"pci:v00008086d0000293Esv00001AF4sd00001100bc04sc03i00", PCIAlias{0x8086, 0x293e, 0x1af4, 0x1100, 0x040300}, false},
		{"pci:v00008086", PCIAlias{}, true},
		{"usb:v1234", PCIAlias{}, true},
		{"pci:vZZZZZZZZd00001041sv00001AF4sd00001100bc02sc00i00", PCIAlias{}, true},
	} {
		got, err := ParsePCIModalias(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParsePCIModalias(%q) = %+v, %v, want %+v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseVirtioModalias(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    VirtioAlias
		wantErr bool
	}{
		{"virtio:d00000001v00001AF4", VirtioAlias{1, 0x1af4}, false},
		{"virtio:d00000019v554D4551", VirtioAlias{25, 0x554d4551}, false},
		{"virtio:d0001", VirtioAlias{}, true},
		{"pci:d00000001v00001AF4", VirtioAlias{}, true},
	} {
		got, err := ParseVirtioModalias(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseVirtioModalias(%q) = %+v, %v, want %+v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func FuzzParseModalias(f *testing.F) {
	f.Add("pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
	f.Add("virtio:d00000001v00001AF4")
	f.Add("pci:v0000")
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := ParsePCIModalias(s); err == nil && a.Class > 0xffffff {
			t.Errorf("ParsePCIModalias(%q).Class = %#x, want 24 bits", s, a.Class)
		}
		ParseVirtioModalias(s)
	})
}

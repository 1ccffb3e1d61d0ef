package image

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeManifest(t *testing.T, dir string, m *Manifest) {
	t.Helper()
	b, err := marshalJSON(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeDirAtomic(dir, map[string][]byte{ManifestFile: b}, nil); err != nil {
		t.Fatal(err)
	}
}

func testManifest() *Manifest {
	return &Manifest{
		BSP: "qemu-x86_64", Kernel: ManifestKernel{File: KernelFile, Size: 8000}, Initramfs: "initramfs.cpio.zst",
		Compression: "zstd", InitramfsSize: 3000, CPIOSize: 9000, Budget: 20000,
		Files: []FileEntry{
			{Path: "/bbin/bb", Type: "file", Size: 6000, Feature: "go", Compressed: 2000},
			{Path: "/lib/modules/6.1/kernel/virtio_net.ko", Type: "file", Size: 2000, Feature: "SYSGEN_ETHERNET", Module: "virtio_net", SHA256: "aa", Compressed: 700},
			{Path: "/etc/settings.json", Type: "file", Size: 1000, Feature: "settings", SHA256: "bb", Compressed: 300},
			{Path: "/etc", Type: "dir", Feature: "base"},
		},
	}
}

func TestSizeReportAndDiff(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	ma := testManifest()
	writeManifest(t, a, ma)
	mb := testManifest()
	mb.InitramfsSize = 3500
	mb.Files[1].Size, mb.Files[1].SHA256, mb.Files[1].Compressed = 2600, "cc", 900
	mb.Files = append(mb.Files, FileEntry{Path: "/usr/share/msgslang/en.json", Type: "file", Size: 400, Feature: "SYSGEN_MESSENGER", SHA256: "dd", Compressed: 300})
	mb.Files = mb.Files[1:] // drop /bbin/bb
	writeManifest(t, b, mb)

	s, err := SizeReport(a)
	if err != nil {
		t.Fatal(err)
	}
	wantFeat := []FeatureSize{
		{Feature: "go", Files: 1, Bytes: 6000, Compressed: 2000},
		{Feature: "SYSGEN_ETHERNET", Files: 1, Bytes: 2000, Compressed: 700},
		{Feature: "settings", Files: 1, Bytes: 1000, Compressed: 300},
		{Feature: "base", Files: 0, Bytes: 0, Compressed: 0},
	}
	if diff := cmp.Diff(wantFeat, s.Features); diff != "" {
		t.Errorf("SizeReport features mismatch (-want +got):\n%s", diff)
	}
	if s.Total != 11000 {
		t.Errorf("SizeReport total = %d, want 11000", s.Total)
	}
	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "virtio_net (SYSGEN_ETHERNET)") {
		t.Errorf("WriteText() = %q, want the module line", text.String())
	}
	if err := xml.Unmarshal(sizeSVG(s), new(struct{})); err != nil {
		t.Errorf("sizeSVG() is not well-formed XML: %v", err)
	}

	d, err := SizeDiff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if d.Total != 500 {
		t.Errorf("SizeDiff total = %d, want 500", d.Total)
	}
	got := map[string]string{}
	for _, f := range d.Files {
		got[f.Path] = f.Change
	}
	want := map[string]string{
		"/bbin/bb":                              "removed",
		"/lib/modules/6.1/kernel/virtio_net.ko": "changed",
		"/usr/share/msgslang/en.json":           "added",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SizeDiff files mismatch (-want +got):\n%s", diff)
	}
	if d.Files[0].Path != "/lib/modules/6.1/kernel/virtio_net.ko" {
		t.Errorf("SizeDiff biggest growth = %s, want virtio_net.ko first", d.Files[0].Path)
	}
	if _, err := SizeReport(filepath.Join(dir, "missing")); err == nil {
		t.Errorf("SizeReport(missing) = nil error, want error")
	}
}

func TestWriteDirAtomicRefusesForeignDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkOutDir(dir); err == nil {
		t.Errorf("checkOutDir(non-image folder) = nil, want error")
	}
	out := filepath.Join(dir, "img")
	for i, content := range []string{"one", "two"} {
		if err := writeDirAtomic(out, map[string][]byte{ManifestFile: []byte(content)}, nil); err != nil {
			t.Fatalf("writeDirAtomic #%d = %v", i, err)
		}
		b, _ := os.ReadFile(filepath.Join(out, ManifestFile))
		if string(b) != content {
			t.Errorf("after write #%d manifest = %q, want %q", i, b, content)
		}
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("folder holds %d entries after two writes, want 2 (no temp leftovers)", len(ents))
	}
}

func FuzzParseManifest(f *testing.F) {
	b, _ := marshalJSON(testManifest())
	f.Add(b)
	f.Add([]byte(`{"initramfs":"../x","kernel":{"file":"vmlinuz"}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			return
		}
		if m.Initramfs != filepath.Base(m.Initramfs) {
			t.Errorf("ParseManifest accepted initramfs name %q", m.Initramfs)
		}
		sizeSVG(sizeFromManifest(m))
	})
}

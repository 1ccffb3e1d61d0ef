package disk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"

	"github.com/oemkit/messenger/internal/testenv"
)

// testSpec is a disk with made-up slot contents: the writer does not look
// inside them. The loader is the real one when the host has it.
func testSpec(t *testing.T) Spec {
	t.Helper()
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	loader := []byte("MZ not a real loader")
	if b, _, err := Loader(); err == nil {
		loader = b
	}
	return Spec{
		Board: "qemu-x86_64", Loader: loader, ESPSize: 48 << 20, StateSize: 16 << 20,
		A: &Slot{Kernel: bytes.Repeat([]byte("K"), 3<<20), Initramfs: bytes.Repeat([]byte("I"), 2<<20), Manifest: []byte(`{"bsp":"qemu-x86_64"}`),
			Cmdline: "console=ttyS0", Generation: 1},
	}
}

// writeImage writes a disk image and its manifest.json into a new folder.
func writeImage(t *testing.T, s Spec) (string, *Layout) {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "disk.img")
	l, err := Write(p, s)
	if err != nil {
		t.Fatalf("Write() = %v", err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	man, _ := json.Marshal(map[string]any{"bsp": s.Board, "disk": map[string]any{"file": "disk.img", "size": len(b), "sha256": hex.EncodeToString(sum[:])}})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), man, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, l
}

// TestWrite writes the image twice (byte-identical), reads its GPT and ESP
// back with go-diskfs and finds the loader, the slot files and slot A's
// loader entry with its command line.
func TestWrite(t *testing.T) {
	s := testSpec(t)
	a, l := writeImage(t, s)
	b, _ := writeImage(t, s)
	x, _ := os.ReadFile(filepath.Join(a, "disk.img"))
	y, _ := os.ReadFile(filepath.Join(b, "disk.img"))
	if !bytes.Equal(x, y) {
		t.Errorf("two Write() calls with the same spec differ")
	}
	if int64(len(x)) != l.Size || len(l.Partitions) != 2 || l.Partitions[0].Label != ESPLabel || l.Partitions[1].Label != StateLabel {
		t.Errorf("layout = %+v, want size %d, partitions ESP and %s", l, len(x), StateLabel)
	}
	d, err := diskfs.Open(filepath.Join(a, "disk.img"), diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fs, err := d.GetFilesystem(1)
	if err != nil {
		t.Fatalf("ESP: %v", err)
	}
	read := func(p string) string {
		f, err := fs.OpenFile(p, os.O_RDONLY)
		if err != nil {
			t.Fatalf("ESP %s: %v", p, err)
		}
		b, _ := io.ReadAll(f)
		return string(b)
	}
	if got := read("/EFI/BOOT/BOOTX64.EFI"); got != string(s.Loader) {
		t.Errorf("ESP loader differs from the spec's (%d bytes, want %d)", len(got), len(s.Loader))
	}
	if got := read("/slot-a/vmlinuz"); got != string(s.A.Kernel) {
		t.Errorf("ESP slot-a/vmlinuz differs from slot A's kernel")
	}
	entry := read("/loader/entries/sysgen-0001-a.conf")
	if !strings.Contains(entry, "options console=ttyS0 panic=10 sysgen.slot=a\n") || !strings.Contains(entry, "linux /slot-a/vmlinuz") {
		t.Errorf("slot A entry = %q, want its kernel and command line with sysgen.slot=a", entry)
	}
}

func TestWriteRefuses(t *testing.T) {
	s := testSpec(t)
	s.Loader = nil
	if _, err := Write(filepath.Join(t.TempDir(), "d.img"), s); !errors.Is(err, ErrLoader) {
		t.Errorf("Write(no loader) = %v, want ErrLoader", err)
	}
	s = testSpec(t)
	s.ESPSize = 4 << 20
	if _, err := Write(filepath.Join(t.TempDir(), "d.img"), s); err == nil || !strings.Contains(err.Error(), "raise the ESP size") {
		t.Errorf("Write(ESP too small) = %v, want the ESP size error", err)
	}
}

// TestFlashFile flashes to a file and reads it back; a truncated image, a
// changed byte and a wrong-board image are refused before writing.
func TestFlashFile(t *testing.T) {
	dir, _ := writeImage(t, testSpec(t))
	img, err := OpenImage(dir)
	if err != nil {
		t.Fatalf("OpenImage() = %v", err)
	}
	out := filepath.Join(t.TempDir(), "card.img")
	var bar bytes.Buffer
	if err := Flash(context.Background(), img, out, FlashOptions{Board: "qemu-x86_64", Progress: &bar}); err != nil {
		t.Fatalf("Flash() = %v", err)
	}
	x, _ := os.ReadFile(filepath.Join(dir, "disk.img"))
	y, _ := os.ReadFile(out)
	if !bytes.Equal(x, y) {
		t.Errorf("flashed file differs from the image")
	}
	if !strings.Contains(bar.String(), "writing") || !strings.Contains(bar.String(), "verifying") || !strings.Contains(bar.String(), "100%") {
		t.Errorf("progress = %q, want writing and verifying bars to 100%%", bar.String())
	}
	// Flashing over an existing, bigger file leaves exactly the image.
	os.WriteFile(out, bytes.Repeat([]byte{1}, len(x)+4096), 0o644)
	if err := Flash(context.Background(), img, out, FlashOptions{}); err != nil {
		t.Fatalf("Flash(over a file) = %v", err)
	}
	if st, _ := os.Stat(out); st.Size() != int64(len(x)) {
		t.Errorf("flashed over a bigger file: size %d, want %d", st.Size(), len(x))
	}

	if err := Flash(context.Background(), img, filepath.Join(t.TempDir(), "x.img"), FlashOptions{Board: "rpi3"}); !errors.Is(err, ErrBoard) || !strings.Contains(err.Error(), "--bsp") {
		t.Errorf("Flash(wrong board) = %v, want ErrBoard naming --bsp", err)
	}
	bad := t.TempDir()
	man, _ := os.ReadFile(filepath.Join(dir, "manifest.json"))
	os.WriteFile(filepath.Join(bad, "manifest.json"), man, 0o644)
	os.WriteFile(filepath.Join(bad, "disk.img"), x[:len(x)/2], 0o644)
	if _, err := OpenImage(bad); !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("OpenImage(truncated) = %v, want ErrBadImage", err)
	}
	z := append([]byte(nil), x...)
	z[len(z)/2] ^= 1
	os.WriteFile(filepath.Join(bad, "disk.img"), z, 0o644)
	if _, err := OpenImage(filepath.Join(bad, "disk.img")); !errors.Is(err, ErrBadImage) || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("OpenImage(one bit changed) = %v, want ErrBadImage on the sha256", err)
	}
	if _, err := OpenImage(t.TempDir()); err == nil || !strings.Contains(err.Error(), "manifest.json") {
		t.Errorf("OpenImage(empty folder) = %v, want the missing manifest named", err)
	}
}

// TestFlashTooSmall flashes into a 16 MiB tmpfs: the target's room is
// checked before anything is written.
func TestFlashTooSmall(t *testing.T) {
	dir, _ := writeImage(t, testSpec(t))
	img, err := OpenImage(dir)
	if err != nil {
		t.Fatal(err)
	}
	mnt := smallFS(t, 16<<20)
	out := filepath.Join(mnt, "card.img")
	if err := Flash(context.Background(), img, out, FlashOptions{}); !errors.Is(err, ErrTooSmall) || !strings.Contains(err.Error(), "larger") {
		t.Errorf("Flash(16 MiB target) = %v, want ErrTooSmall", err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("Flash(too small) created %s; it must refuse before writing", out)
	}
}

func TestFlashRefusesSpecialFiles(t *testing.T) {
	dir, _ := writeImage(t, testSpec(t))
	img, err := OpenImage(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/dev/null", t.TempDir()} {
		if err := Flash(context.Background(), img, target, FlashOptions{}); !errors.Is(err, ErrNotTarget) {
			t.Errorf("Flash(%s) = %v, want ErrNotTarget", target, err)
		}
	}
}

func TestCheckBlock(t *testing.T) {
	mounts, err := ParseMountInfo([]byte(`22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
30 22 8:17 / /media/card\040one rw,relatime shared:9 - vfat /dev/sdb1 rw
31 22 0:25 / /run rw - tmpfs tmpfs rw
`))
	if err != nil {
		t.Fatal(err)
	}
	if mounts[1].Point != "/media/card one" {
		t.Errorf("mount point = %q, want the \\040 unescaped", mounts[1].Point)
	}
	disks := map[string]string{"254:1": "254:0", "8:17": "8:16"}
	diskOf := func(maj, min int) string {
		id := fmt.Sprintf("%d:%d", maj, min)
		if d, ok := disks[id]; ok {
			return d
		}
		return id
	}
	for _, tc := range []struct {
		disk string
		want error
	}{{"254:0", ErrHostDisk}, {"8:16", ErrMounted}, {"8:32", nil}} {
		err := CheckBlock("/dev/x", tc.disk, mounts, diskOf)
		if !errors.Is(err, tc.want) {
			t.Errorf("CheckBlock(disk %s) = %v, want %v", tc.disk, err, tc.want)
		}
	}
}

func FuzzParseMountInfo(f *testing.F) {
	f.Add([]byte("22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"))
	f.Add([]byte("30 22 8:17 / /media/a\\040b rw - vfat /dev/sdb1 rw\n\n"))
	f.Add([]byte("1 2 x:y / / - a b c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseMountInfo(b)
		if err == nil {
			for _, m := range ms {
				if m.Major < 0 || m.Minor < 0 {
					t.Fatalf("negative device %+v", m)
				}
			}
		}
	})
}

// BenchmarkWrite writes a disk image of the Messenger image's size (8 MB
// kernel, 5 MB initramfs) with the default partition sizes.
func BenchmarkWrite(b *testing.B) {
	t := &testing.T{}
	s := testSpec(t)
	s.ESPSize, s.StateSize = 0, 0
	s.A.Kernel = bytes.Repeat([]byte{0x4d, 0x5a, 1, 2}, 2<<20)
	s.A.Initramfs = bytes.Repeat([]byte{0x28, 0xb5, 0x2f, 0xfd, 7}, 1<<20)
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Write(filepath.Join(dir, "disk.img"), s); err != nil {
			b.Fatal(err)
		}
	}
}

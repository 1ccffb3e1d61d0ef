package sdcard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemkit/messenger/internal/testenv"
)

func testSpec() Spec {
	return Spec{
		Board:     "rpi3",
		Firmware:  map[string][]byte{"bootcode.bin": bytes.Repeat([]byte{1}, 52460), "start.elf": bytes.Repeat([]byte{2}, 300000), "fixup.dat": []byte("fixup")},
		Kernel:    bytes.Repeat([]byte("kernel"), 500000),
		Initramfs: bytes.Repeat([]byte("initramfs"), 100000),
		DTB:       []byte("\xd0\x0d\xfe\xed dtb"),
		DTBName:   "bcm2837-rpi-3-b.dtb",
		Cmdline:   "console=ttyS1,115200 quiet",
		Manifest:  []byte(`{"bsp":"rpi3"}`),
	}
}

// TestWriteRead writes an image, checks the MBR and reads every boot file
// back; a second write of the same spec is byte-identical.
func TestWriteRead(t *testing.T) {
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.img"), filepath.Join(dir, "b.img")
	s := testSpec()
	lay, err := Write(a, s)
	if err != nil {
		t.Fatalf("Write = %v", err)
	}
	if _, err := Write(b, testSpec()); err != nil {
		t.Fatalf("Write again = %v", err)
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Errorf("two writes of the same spec differ")
	}
	if int64(len(x)) != DefaultSize || lay.Size != DefaultSize {
		t.Errorf("image is %d bytes (layout %d), want %d", len(x), lay.Size, DefaultSize)
	}
	mbrSec := x[:512]
	if err := CheckMBR(mbrSec, int64(len(x))); err != nil {
		t.Errorf("CheckMBR = %v", err)
	}
	if got := binary.LittleEndian.Uint32(mbrSec[440:]); got != Signature("rpi3") || got == 0 {
		t.Errorf("disk signature %08x, want %08x", got, Signature("rpi3"))
	}
	p1, p2 := mbrSec[446:462], mbrSec[462:478]
	if p1[0] != 0x80 || p1[4] != 0x0c || p2[4] != 0x83 {
		t.Errorf("partition entries: boot flag %#x type %#x, second type %#x; want 0x80 0x0c 0x83", p1[0], p1[4], p2[4])
	}
	if start := binary.LittleEndian.Uint32(p1[8:]); start != firstLBA {
		t.Errorf("boot partition starts at LBA %d, want %d", start, firstLBA)
	}
	files := BootFiles(s)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	got, err := ReadBootFiles(a, names...)
	if err != nil {
		t.Fatalf("ReadBootFiles = %v", err)
	}
	for _, n := range names {
		if !bytes.Equal(got[n], files[n]) {
			t.Errorf("boot file %s: read back %d bytes, wrote %d", n, len(got[n]), len(files[n]))
		}
	}
	cfg := string(got[ConfigFile])
	for _, want := range []string{"arm_64bit=1\n", "kernel=vmlinuz\n", "initramfs initrd.img followkernel\n", "device_tree=bcm2837-rpi-3-b.dtb\n", "enable_uart=1\n"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config.txt lacks %q:\n%s", want, cfg)
		}
	}
	if string(got[CmdlineFile]) != "console=ttyS1,115200 quiet\n" {
		t.Errorf("cmdline.txt = %q", got[CmdlineFile])
	}
	if _, err := ReadBootFile(a, "nope.txt"); err == nil || !strings.Contains(err.Error(), "no nope.txt") {
		t.Errorf("ReadBootFile(missing) = %v, want an error naming the file", err)
	}
	// Other tools agree: fsck.vfat and e2fsck find no errors.
	checkPartitions(t, a, lay)
}

// checkPartitions runs fsck.fat and e2fsck on the partitions, when the
// host has them.
func checkPartitions(t *testing.T, img string, lay *Layout) {
	x, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		part int
		tool string
		args []string
	}{{0, "fsck.vfat", []string{"-n"}}, {1, "e2fsck", []string{"-n", "-f"}}} {
		tool, err := exec.LookPath(c.tool)
		if err != nil {
			if tool, err = exec.LookPath("/usr/sbin/" + c.tool); err != nil {
				t.Logf("%s not found: partition %d not checked", c.tool, c.part+1)
				continue
			}
		}
		p := lay.Partitions[c.part]
		f := filepath.Join(t.TempDir(), "part")
		if err := os.WriteFile(f, x[p.Start:p.Start+p.Size], 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(tool, append(c.args, f)...).CombinedOutput(); err != nil {
			t.Errorf("%s on partition %d: %v\n%s", c.tool, c.part+1, err, out)
		}
	}
}

func TestWriteRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"size not a power of two", func(s *Spec) { s.Size = 300 << 20 }, "power of two"},
		{"boot partition too small", func(s *Spec) { s.BootSize = 32 << 20 }, "at least 64 MiB"},
		{"no room for state", func(s *Spec) { s.Size = 128 << 20; s.BootSize = 120 << 20 }, "no room"},
		{"no kernel", func(s *Spec) { s.Kernel = nil }, "kernel, initramfs and device tree"},
		{"bad dtb name", func(s *Spec) { s.DTBName = "../x.dtb" }, "device tree name"},
		{"two-line cmdline", func(s *Spec) { s.Cmdline = "a\nb" }, "one line"},
		{"no bootcode", func(s *Spec) { delete(s.Firmware, "bootcode.bin") }, "raspi-firmware"},
		{"too big for boot", func(s *Spec) { s.Kernel = make([]byte, 120<<20) }, "cannot hold"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec()
			tc.edit(&s)
			f := filepath.Join(t.TempDir(), "x.img")
			_, err := Write(f, s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write = %v, want an error with %q", err, tc.want)
			}
			if _, serr := os.Stat(f); serr == nil {
				t.Errorf("a failed Write left %s", f)
			}
		})
	}
}

// TestReadBad: a truncated, corrupt or foreign image gives ErrNotSDCard.
func TestReadBad(t *testing.T) {
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	dir := t.TempDir()
	good := filepath.Join(dir, "good.img")
	if _, err := Write(good, testSpec()); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(good)
	gpt := append([]byte(nil), x[:4096]...)
	gpt[446+4] = 0xee // protective MBR of a GPT disk
	for name, data := range map[string][]byte{
		"empty":     nil,
		"truncated": x[:100<<20],
		"no sig":    append(make([]byte, 510), 0, 0),
		"gpt":       gpt,
	} {
		t.Run(name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			if err := os.WriteFile(f, data, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadBootFile(f, ConfigFile); !errors.Is(err, ErrNotSDCard) {
				t.Errorf("ReadBootFile(%s) = %v, want ErrNotSDCard", name, err)
			}
		})
	}
}

func FuzzCheckMBR(f *testing.F) {
	sec := make([]byte, 512)
	sec[510], sec[511] = 0x55, 0xaa
	sec[446+4] = 0x0c
	binary.LittleEndian.PutUint32(sec[446+8:], 2048)
	binary.LittleEndian.PutUint32(sec[446+12:], 262144)
	f.Add(sec, int64(256<<20))
	f.Add([]byte{}, int64(0))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		if err := CheckMBR(b, size); err == nil {
			e := b[446:462]
			start := int64(binary.LittleEndian.Uint32(e[8:12])) * sector
			n := int64(binary.LittleEndian.Uint32(e[12:16])) * sector
			if start+n > size || (e[4] != 0x0c && e[4] != 0x0b) {
				t.Fatalf("CheckMBR accepted a partition outside the disk or of type %#x", e[4])
			}
		}
	})
}

// TestExtract takes the system back out of a card: files as written, the
// command line from cmdline.txt, the QEMU template filled in; a card of
// another board is refused.
func TestExtract(t *testing.T) {
	testenv.Tool(t, "mkfs.ext4", "apt-get install e2fsprogs")
	dir := t.TempDir()
	s := testSpec()
	s.Manifest = []byte(`{"bsp":"rpi3","initramfs":"initramfs.cpio.zst","kernel":{"file":"vmlinuz"},"cmdline":"old","qemu":["q","-dtb","{dtb}","-drive","file={sdcard},if=sd","-kernel","{kernel}"]}`)
	card := filepath.Join(dir, "sd.img")
	if _, err := Write(card, s); err != nil {
		t.Fatal(err)
	}
	b, err := Extract(card, filepath.Join(dir, "boot"))
	if err != nil {
		t.Fatalf("Extract = %v", err)
	}
	m := b.Manifest
	if m.Cmdline != s.Cmdline {
		t.Errorf("Cmdline = %q, want cmdline.txt's %q", m.Cmdline, s.Cmdline)
	}
	for path, want := range map[string][]byte{m.Kernel.File: s.Kernel, m.Initramfs: s.Initramfs, filepath.Join(b.Dir, s.DTBName): s.DTB} {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes as written", path, len(got), err, len(want))
		}
	}
	if got := strings.Join(m.QEMU, " "); got != "q -dtb "+filepath.Join(b.Dir, s.DTBName)+" -drive file="+card+",if=sd -kernel {kernel}" {
		t.Errorf("QEMU = %q", got)
	}
	s.Manifest = []byte(`{"bsp":"qemu-aarch64","initramfs":"i","kernel":{"file":"k"}}`)
	other := filepath.Join(dir, "other.img")
	if _, err := Write(other, s); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(other, filepath.Join(dir, "o")); !errors.Is(err, ErrWrongBoard) {
		t.Errorf("Extract(qemu-aarch64 card) = %v, want ErrWrongBoard", err)
	}
}

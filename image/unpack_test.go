package image

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/u-root/mkuimage/cpio"
)

// newc writes records as a newc archive with its trailer.
func newc(t testing.TB, recs ...cpio.Record) []byte {
	t.Helper()
	var b bytes.Buffer
	w := cpio.Newc.Writer(&b)
	for _, r := range append(recs, cpio.TrailerRecord) {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func sampleCPIO(t testing.TB) []byte {
	return newc(t, cpio.Directory("etc", 0o755), cpio.StaticFile("etc/motd", "hello\n", 0o644),
		cpio.Symlink("bin/sh", "/bbin/bb"), cpio.StaticFile("bbin/bb", "\x7fELF...", 0o755),
		cpio.StaticFile("empty", "", 0o644), cpio.CharDev("dev/console", 0o600, 5, 1))
}

func TestReadCPIO(t *testing.T) {
	got, err := readCPIO(sampleCPIO(t), "test")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"/etc/motd": []byte("hello\n"), "/bbin/bb": []byte("\x7fELF..."), "/empty": {}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("readCPIO mismatch (-want +got):\n%s", d)
	}
	raw := sampleCPIO(t)
	hugeName := append([]byte(nil), raw...)
	copy(hugeName[6+8*11:], "FFFFFFFF") // first entry's name length
	hugeSize := append([]byte(nil), raw...)
	copy(hugeSize[6+8*6:], "FFFFFFFF") // first entry's file size
	for name, b := range map[string][]byte{
		"empty":      nil,
		"garbage":    []byte("not a cpio archive at all, no no no, not even close to one of those, really not, no way"),
		"truncated":  raw[:len(raw)/2],
		"no trailer": newc(t, cpio.StaticFile("a", "b", 0o644))[:124],
		"huge name":  hugeName,
		"huge size":  hugeSize,
	} {
		if _, err := readCPIO(b, "test"); err == nil {
			t.Errorf("readCPIO(%s) = nil error", name)
		}
	}
}

func TestWriteFiles(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	if err := writeFiles(map[string][]byte{"/etc/motd": []byte("hi"), "/a/b/c": nil}, root); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "etc", "motd")); err != nil || string(b) != "hi" {
		t.Errorf("etc/motd = %q, %v", b, err)
	}
	if err := writeFiles(map[string][]byte{"/x": nil}, root); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("writeFiles(non-empty root) = %v", err)
	}
	for _, bad := range []map[string][]byte{{"/": nil}, {"/../x": nil}, {"/a": nil, "/a/b": nil}} {
		if err := writeFiles(bad, filepath.Join(t.TempDir(), "r")); err == nil {
			t.Errorf("writeFiles(%q) = nil error", bad)
		}
	}
}

// FuzzReadInitramfs feeds archives, whole or compressed, through the
// reader of ReadInitramfs (decompression and cpio parsing).
func FuzzReadInitramfs(f *testing.F) {
	raw := sampleCPIO(f)
	for _, kind := range []string{"gzip", "zstd", "xz"} {
		c, err := compress(kind, raw)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c, kind)
	}
	f.Add(raw, "none")
	f.Add([]byte("070701"), "none")
	f.Fuzz(func(t *testing.T, b []byte, kind string) {
		if kind != "none" {
			p := filepath.Join(t.TempDir(), "initramfs")
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			var err error
			if b, err = decompressFile(p, kind); err != nil {
				return
			}
		}
		files, err := readCPIO(b, "fuzz")
		if err != nil {
			return
		}
		var total int
		for name, data := range files {
			if !strings.HasPrefix(name, "/") || len(name) > maxName+1 {
				t.Errorf("readCPIO gave name %q", name)
			}
			total += len(data)
		}
		if total > len(b) {
			t.Errorf("readCPIO gave %d bytes of files from a %d-byte archive", total, len(b))
		}
	})
}

// FuzzUnpack writes what the reader accepts below a fresh root: every
// file must land inside it.
func FuzzUnpack(f *testing.F) {
	f.Add(sampleCPIO(f))
	f.Add(newc(f, cpio.StaticFile("../../escape", "x", 0o644)))
	f.Add(newc(f, cpio.StaticFile("a", "x", 0o644), cpio.StaticFile("a/b", "y", 0o644)))
	f.Fuzz(func(t *testing.T, b []byte) {
		files, err := readCPIO(b, "fuzz")
		if err != nil || len(files) > 64 {
			return
		}
		base := t.TempDir()
		root := filepath.Join(base, "root")
		if err := writeFiles(files, root); err != nil {
			return
		}
		n := 0
		filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
				if !strings.HasPrefix(p, root+string(filepath.Separator)) {
					t.Errorf("unpack wrote %s outside %s", p, root)
				}
				if d.Type()&os.ModeSymlink != 0 {
					t.Errorf("unpack made a symlink %s", p)
				}
			}
			return nil
		})
		if n != len(files) {
			t.Errorf("unpack wrote %d files for %d entries", n, len(files))
		}
	})
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSDCardErrors: sysgen sdcard needs -o and one folder (exit 2), and
// refuses an image folder of a board without an SD card or a folder that
// is no image (exit 1, saying what to do).
func TestSDCardErrors(t *testing.T) {
	aarch64 := t.TempDir()
	if err := os.WriteFile(filepath.Join(aarch64, "manifest.json"), []byte(`{"bsp":"qemu-aarch64","initramfs":"initramfs.cpio.zst","kernel":{"file":"vmlinuz"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "sd.img")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no -o", []string{"sdcard", aarch64}, 2, "usage: sysgen sdcard"},
		{"no folder", []string{"sdcard", "-o", out}, 2, "usage: sysgen sdcard"},
		{"wrong board", []string{"sdcard", "-o", out, aarch64}, 1, `built for BSP "qemu-aarch64"; SD card images exist for rpi3`},
		{"not an image", []string{"sdcard", "-o", out, t.TempDir()}, 1, "run sysgen build"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("sysgen %s: exit %d, %q; want exit %d with %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed sysgen sdcard wrote %s", out)
			}
		})
	}
}

package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	upd "github.com/oemkit/messenger/feature/update"
)

// gzipCPIO is a gzip-compressed newc archive of files (path: content).
func gzipCPIO(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var raw bytes.Buffer
	entry := func(ino int, name, data string, mode int) {
		fmt.Fprintf(&raw, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
		raw.WriteString(name + "\x00")
		for raw.Len()%4 != 0 {
			raw.WriteByte(0)
		}
		raw.WriteString(data)
		for raw.Len()%4 != 0 {
			raw.WriteByte(0)
		}
	}
	names := slices.Sorted(maps.Keys(files))
	for i, n := range names {
		entry(i+1, n, files[n], 0o100644)
	}
	entry(0, "TRAILER!!!", "", 0)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return gz.Bytes()
}

func runIn(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &Context{Args: args, Dir: dir, Stdout: &out, Stderr: &errb}
	err := c.Execute(context.Background())
	return out.String(), errb.String(), err
}

// TestKeygenUpdate makes a key with sysgen keygen, signs an image folder
// with sysgen update and sends it to the real update service (on an ESP
// folder): it is verified with the printed public key and written to slot
// b. A second keygen onto the same file is refused; an update signed with
// another key is refused by the device; an unreachable device is named.
func TestKeygenUpdate(t *testing.T) {
	dir := t.TempDir()
	out, _, err := runIn(t, dir, "keygen", "-o", "oem.key")
	if err != nil {
		t.Fatalf("sysgen keygen = %v", err)
	}
	m := regexp.MustCompile(`"update.public_key" = "(ed25519:[^"]+)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sysgen keygen printed %q, want the update.public_key line", out)
	}
	pub, err := upd.ParsePublicKey(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "oem.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v, want 0600", st.Mode(), err)
	}
	if _, _, err := runIn(t, dir, "keygen", "-o", "oem.key"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("sysgen keygen over an existing key = %v, want a refusal", err)
	}
	img := filepath.Join(dir, "img")
	os.MkdirAll(img, 0o755)
	os.WriteFile(filepath.Join(img, "manifest.json"), []byte(`{"bsp":"qemu-x86_64","initramfs":"initramfs.cpio.gz","compression":"gzip","cmdline":"console=ttyS0","kernel":{"file":"vmlinuz"}}`), 0o644)
	os.WriteFile(filepath.Join(img, "vmlinuz"), []byte("kernel"), 0o644)
	initramfs := gzipCPIO(t, map[string]string{"etc/settings.json": `{"update.version":"3"}`})
	os.WriteFile(filepath.Join(img, "initramfs.cpio.gz"), initramfs, 0o644)

	esp := t.TempDir()
	os.MkdirAll(filepath.Join(esp, upd.EntriesDir), 0o755)
	os.WriteFile(filepath.Join(esp, upd.EntriesDir, upd.EntryFile("a", 1, 0)), nil, 0o644)
	srv := httptest.NewServer(&upd.Service{Key: pub, Board: "qemu-x86_64", ESP: esp, Running: "a"})
	defer srv.Close()
	out, _, err = runIn(t, dir, "update", "--key", "oem.key", srv.URL, "img")
	if err != nil {
		t.Fatalf("sysgen update = %v\n%s", err, out)
	}
	if !strings.Contains(out, "device: OK: rebooting into slot b") {
		t.Errorf("sysgen update printed %q, want the device's OK line", out)
	}
	if b, _ := os.ReadFile(filepath.Join(esp, "slot-b", "initrd")); !bytes.Equal(b, initramfs) {
		t.Errorf("slot-b/initrd = %q, want the image's initramfs", b)
	}
	if v, _ := upd.SlotVersion(esp, "b"); v != "3" {
		t.Errorf("slot-b's version = %q, want 3, the image's update.version", v)
	}
	// A device that runs version 4 refuses the image of version 3.
	newer := httptest.NewServer(&upd.Service{Key: pub, Board: "qemu-x86_64", ESP: esp, Running: "a", Version: "4"})
	defer newer.Close()
	if _, _, err := runIn(t, dir, "update", "--key", "oem.key", newer.URL, "img"); err == nil || !strings.Contains(err.Error(), "the bundle is version 3 and the running system is version 4") {
		t.Errorf("sysgen update of version 3 to a device at 4 = %v, want the downgrade refused naming both", err)
	}

	runIn(t, dir, "keygen", "-o", "other.key")
	_, _, err = runIn(t, dir, "update", "--key", "other.key", srv.URL, "img")
	if err == nil || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), "signature") {
		t.Errorf("sysgen update with another key = %v, want the device's refusal naming the signature", err)
	}
	_, _, err = runIn(t, dir, "update", "--key", "oem.key", "--wait", "1s", "http://127.0.0.1:1", "img")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the device") {
		t.Errorf("sysgen update to a closed port = %v, want cannot reach the device", err)
	}
	arm := httptest.NewServer(&upd.Service{Key: pub, Board: "qemu-aarch64", ESP: esp, Running: "a"})
	defer arm.Close()
	if _, _, err := runIn(t, dir, "update", "--key", "oem.key", arm.URL, "img"); err == nil || !strings.Contains(err.Error(), "--bsp qemu-aarch64") {
		t.Errorf("sysgen update to another board = %v, want the board named with --bsp", err)
	}
	if _, _, err := runIn(t, dir, "update", srv.URL, "img"); Code(err) != 2 {
		t.Errorf("sysgen update without --key: exit %d (%v), want 2", Code(err), err)
	}
}

package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func testFiles() map[string][]byte {
	return map[string][]byte{FileKernel: bytes.Repeat([]byte("k"), 5000), FileInitrd: []byte("initramfs bytes"), FileManifest: []byte(`{"bsp":"qemu-x86_64"}`)}
}

func signed(t testing.TB, priv ed25519.PrivateKey, board string) []byte {
	var buf bytes.Buffer
	if err := Sign(&buf, priv, Header{Board: board, Cmdline: "console=ttyS0", Image: "abc"}, testFiles()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBundle signs a bundle and reads it back; then every kind of damage:
// a flipped bit in the header, the signature or a file, another key,
// another board, a truncated bundle, trailing bytes, no magic.
func TestBundle(t *testing.T) {
	pub, priv := testKey(t)
	b := signed(t, priv, "qemu-x86_64")
	got, err := Read(bytes.NewReader(b), pub, "qemu-x86_64", 0)
	if err != nil {
		t.Fatalf("Read(signed) = %v", err)
	}
	for n, want := range testFiles() {
		if !bytes.Equal(got.Files[n], want) {
			t.Errorf("Read(signed) file %s differs", n)
		}
	}
	if got.Header.Cmdline != "console=ttyS0" || len(got.Header.Files) != 3 {
		t.Errorf("Read(signed) header = %+v", got.Header)
	}
	hdrEnd := len(Magic) + 4 + int(uint32(b[16])<<24|uint32(b[17])<<16|uint32(b[18])<<8|uint32(b[19]))
	flip := func(i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x20
		return c
	}
	other, _ := testKey(t)
	for _, tc := range []struct {
		name  string
		data  []byte
		key   ed25519.PublicKey
		board string
		want  error
		text  string
	}{
		{"header bit", flip(hdrEnd - 3), pub, "", ErrSignature, "sysgen update --key"},
		{"signature bit", flip(hdrEnd + 10), pub, "", ErrSignature, ""},
		{"kernel bit", flip(hdrEnd + 64 + 100), pub, "", nil, "does not match its signed sha256"},
		{"last byte", flip(len(b) - 1), pub, "", nil, "does not match its signed sha256"},
		{"other key", b, other, "", ErrSignature, ""},
		{"other board", b, pub, "rpi3", ErrBoard, "--bsp rpi3"},
		{"truncated", b[:len(b)-10], pub, "", nil, "truncated"},
		{"truncated header", b[:30], pub, "", ErrFormat, "truncated"},
		{"trailing", append(append([]byte(nil), b...), 'x'), pub, "", ErrFormat, "after the last file"},
		{"no magic", []byte("PK\x03\x04 a zip file, not a bundle"), pub, "", ErrFormat, "sysgen update"},
		{"empty", nil, pub, "", ErrFormat, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.data), tc.key, tc.board, 0)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Read(%s) = %v, want %v containing %q", tc.name, err, tc.want, tc.text)
			}
		})
	}
	if _, err := Read(bytes.NewReader(b), pub, "", 100); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("Read(max 100 bytes) = %v, want the limit error", err)
	}
}

func TestPublicKey(t *testing.T) {
	pub, _ := testKey(t)
	got, err := ParsePublicKey(FormatPublicKey(pub))
	if err != nil || !got.Equal(pub) {
		t.Errorf("ParsePublicKey(FormatPublicKey(k)) = %v, %v", got, err)
	}
	for _, s := range []string{"", "ssh-ed25519 AAAA", "ed25519:AAAA", "ed25519:!!"} {
		if _, err := ParsePublicKey(s); err == nil || !strings.Contains(err.Error(), "keygen") {
			t.Errorf("ParsePublicKey(%q) = %v, want an error naming sysgen keygen", s, err)
		}
	}
}

func TestParseEntry(t *testing.T) {
	for _, tc := range []struct {
		name string
		want Entry
		ok   bool
	}{
		{"sysgen-0001-a.conf", Entry{File: "sysgen-0001-a.conf", Generation: 1, Slot: "a"}, true},
		{"sysgen-0002-b+1-0.conf", Entry{File: "sysgen-0002-b+1-0.conf", Generation: 2, Slot: "b", Counted: true, Left: 1}, true},
		{"sysgen-0002-b+0-1.conf", Entry{File: "sysgen-0002-b+0-1.conf", Generation: 2, Slot: "b", Counted: true, Done: 1}, true},
		{"sysgen-0002-b+3.conf", Entry{File: "sysgen-0002-b+3.conf", Generation: 2, Slot: "b", Counted: true, Left: 3}, true},
		{"sysgen-0002-c.conf", Entry{}, false},
		{"other.conf", Entry{}, false},
	} {
		got, ok := ParseEntry(tc.name)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseEntry(%q) = %+v, %v, want %+v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if e, _ := ParseEntry("sysgen-0002-b+0-1.conf"); !e.Failed() || e.Good() {
		t.Errorf("+0-1 entry: Failed %v Good %v, want failed", e.Failed(), e.Good())
	}
	if got := SlotOf("console=ttyS0 sysgen.slot=b quiet"); got != "b" {
		t.Errorf("SlotOf() = %q, want b", got)
	}
	if got := SlotOf("sysgen.slot=c"); got != "" {
		t.Errorf("SlotOf(c) = %q, want none", got)
	}
}

// TestInstall installs two updates on an ESP folder laid out as the disk
// image is: each goes to the slot not running, with the next generation and
// one trial boot; Bless drops the counter; Forget removes a failed trial.
func TestInstall(t *testing.T) {
	esp := t.TempDir()
	os.MkdirAll(filepath.Join(esp, EntriesDir), 0o755)
	os.MkdirAll(filepath.Join(esp, "slot-a"), 0o755)
	os.WriteFile(filepath.Join(esp, EntriesDir, EntryFile("a", 1, 0)), []byte(EntryText("a", 1, "console=ttyS0")), 0o644)
	pub, priv := testKey(t)
	b, err := Read(bytes.NewReader(signed(t, priv, "x")), pub, "x", 0)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	e, err := Install(esp, "a", b, func(s string) { steps = append(steps, s) })
	if err != nil {
		t.Fatalf("Install(running a) = %v", err)
	}
	if e.Slot != "b" || e.Generation != 2 || e.File != "sysgen-0002-b+1-0.conf" {
		t.Errorf("Install(running a) = %+v, want slot b generation 2 on trial", e)
	}
	if got, _ := os.ReadFile(filepath.Join(esp, "slot-b", FileKernel)); !bytes.Equal(got, testFiles()[FileKernel]) {
		t.Errorf("slot-b/vmlinuz not written")
	}
	entry, _ := os.ReadFile(filepath.Join(esp, EntriesDir, e.File))
	if !strings.Contains(string(entry), "options console=ttyS0 panic=10 sysgen.slot=b") {
		t.Errorf("slot b entry = %q", entry)
	}
	if len(steps) < 4 {
		t.Errorf("progress = %q, want a line per step", steps)
	}
	// The loader tried it once; the new system blesses itself.
	os.Rename(filepath.Join(esp, EntriesDir, e.File), filepath.Join(esp, EntriesDir, "sysgen-0002-b+0-1.conf"))
	if ok, err := Bless(esp, "b"); !ok || err != nil {
		t.Fatalf("Bless(b) = %v, %v", ok, err)
	}
	ents, _ := Entries(esp)
	if len(ents) != 2 || ents[0].File != "sysgen-0002-b.conf" || ents[1].File != "sysgen-0001-a.conf" {
		t.Errorf("entries after Bless = %+v, want b good (generation 2) then a", ents)
	}
	if ok, err := Bless(esp, "b"); ok || err != nil {
		t.Errorf("Bless(b) again = %v, %v, want nothing to do", ok, err)
	}
	// Next update from b goes to a and replaces its old entry.
	e, err = Install(esp, "b", b, nil)
	if err != nil || e.Slot != "a" || e.Generation != 3 {
		t.Fatalf("Install(running b) = %+v, %v, want slot a generation 3", e, err)
	}
	ents, _ = Entries(esp)
	if len(ents) != 2 || ents[0].File != "sysgen-0003-a+1-0.conf" {
		t.Errorf("entries = %+v, want a's old entry replaced", ents)
	}
	if err := Forget(esp, "a"); err != nil {
		t.Fatal(err)
	}
	if ents, _ = Entries(esp); len(ents) != 1 || ents[0].Slot != "b" {
		t.Errorf("entries after Forget(a) = %+v, want only b", ents)
	}
	if _, err := Install(esp, "", b, nil); err == nil || !strings.Contains(err.Error(), "sysgen flash") {
		t.Errorf("Install(not booted from a slot) = %v, want an error naming sysgen flash", err)
	}
}

func FuzzRead(f *testing.F) {
	pub, priv := testKey(f)
	b := signed(f, priv, "qemu-x86_64")
	f.Add(b)
	f.Add(b[:40])
	f.Add([]byte(Magic + "\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Read(bytes.NewReader(data), pub, "", 1<<20)
		if err == nil && !bytes.Equal(data, b) {
			// Only the signed bundle verifies (ed25519 signatures are
			// not malleable).
			t.Fatalf("Read accepted %d bytes that are not the signed bundle: %+v", len(data), got.Header)
		}
	})
}

package image

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

func TestDebSHA256Stamp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the stamp needs the change time (Linux)")
	}
	deb := filepath.Join(t.TempDir(), "k.deb")
	sum := func(b string) string { s := sha256.Sum256([]byte(b)); return hex.EncodeToString(s[:]) }
	if err := os.WriteFile(deb, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := debSHA256(deb)
	if err != nil || got != sum("one") {
		t.Fatalf("debSHA256 = %q, %v; want %q", got, err, sum("one"))
	}
	if _, err := os.Stat(deb + ".sha256"); err != nil {
		t.Fatalf("no stamp written: %v", err)
	}
	// The stamp is what is used while the file is unchanged: a stamp with
	// a made-up sum and the right identity is believed...
	fi, _ := os.Stat(deb)
	fake := "f" + sum("one")[1:]
	if err := os.WriteFile(deb+".sha256", []byte(fileIdentity(fi)+" "+fake+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := debSHA256(deb); got != fake {
		t.Fatalf("debSHA256 with a stamp = %q, want the stamp's %q", got, fake)
	}
	// ...and a change in place (same size, mtime set back) is seen.
	mt := fi.ModTime()
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(deb, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(deb, mt, mt); err != nil {
		t.Fatal(err)
	}
	if got, _ := debSHA256(deb); got != sum("two") {
		t.Fatalf("debSHA256 after a change in place = %q, want %q", got, sum("two"))
	}
}

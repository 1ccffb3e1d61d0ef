package update

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestService posts bundles to the update service over HTTP: a tampered
// one is refused with the reason and nothing is written; a signed one is
// written to the other slot, answered step by step, and the device reboots.
func TestService(t *testing.T) {
	esp := t.TempDir()
	os.MkdirAll(filepath.Join(esp, EntriesDir), 0o755)
	os.WriteFile(filepath.Join(esp, EntriesDir, EntryFile("a", 1, 0)), []byte(EntryText("a", 1, "")), 0o644)
	pub, priv := testKey(t)
	rebooted := make(chan bool, 1)
	svc := &Service{Key: pub, Board: "qemu-x86_64", ESP: esp, Running: "a", Reboot: func() { rebooted <- true }}
	srv := httptest.NewServer(svc)
	defer srv.Close()

	b := signed(t, priv, "qemu-x86_64")
	bad := append([]byte(nil), b...)
	bad[len(bad)-1] ^= 1
	resp, err := http.Post(srv.URL+"/update", "application/octet-stream", bytes.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "sha256") {
		t.Errorf("POST tampered = %s %q, want 400 naming the hash", resp.Status, body)
	}
	if _, err := os.Stat(filepath.Join(esp, "slot-b")); err == nil {
		t.Errorf("a refused bundle wrote slot-b")
	}

	resp, err = http.Post(srv.URL+"/update", "application/octet-stream", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "OK: rebooting into slot b") {
		t.Errorf("POST signed = %s %q, want 200 and the OK line", resp.Status, body)
	}
	select {
	case <-rebooted:
	case <-time.After(5 * time.Second):
		t.Errorf("the service did not reboot after the update")
	}
	resp, err = http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var st Status
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if st.Running != "a" || len(st.Entries) != 2 || st.Entries[0].File != "sysgen-0002-b+1-0.conf" {
		t.Errorf("GET /status = %+v, want a running and b on trial", st)
	}
	resp, _ = http.Get(srv.URL + "/update")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /update = %s, want 405", resp.Status)
	}
	resp.Body.Close()
}

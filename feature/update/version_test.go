package update

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		bad  bool
	}{
		{"", Version{0}, false},
		{"42", Version{42}, false},
		{" 1.4.2 ", Version{1, 4, 2}, false},
		{"2026.12.3.7", Version{2026, 12, 3, 7}, false},
		{"1.2.3.4.5", nil, true},
		{"1..2", nil, true},
		{"v1", nil, true},
		{"-1", nil, true},
		{"1.2-rc1", nil, true},
		{"1234567890", nil, true},
		{strings.Repeat("1.", 40) + "1", nil, true},
	} {
		got, err := ParseVersion(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got.Compare(tc.want) != 0) {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestCompareVersion(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1", "2", -1}, {"2", "1", 1}, {"1.4", "1.4.0", 0}, {"1.10", "1.9", 1},
		{"", "0", 0}, {"", "1", -1}, {"1.4.2", "1.5", -1}, {"10", "9.99", 1},
	} {
		a, _ := ParseVersion(tc.a)
		b, _ := ParseVersion(tc.b)
		if got := a.Compare(b); got != tc.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		bundle, running, other string
		allow                  bool
		want                   error
		text                   []string
	}{
		{"newer", "5", "4", "3", false, nil, nil},
		{"same (reinstall)", "4", "4", "", false, nil, nil},
		{"older than running", "3", "4", "", false, ErrDowngrade, []string{"version 3", "the running system is version 4", "update.allow_downgrade"}},
		{"older than other slot", "1.4", "1.3", "1.5", false, ErrDowngrade, []string{"version 1.4", "the other slot is version 1.5"}},
		{"unversioned bundle", "", "2", "", false, ErrDowngrade, []string{"version 0 (unset)", "version 2"}},
		{"allowed", "3", "4", "5", true, nil, nil},
		{"no versions anywhere", "", "", "", false, nil, nil},
		{"bad bundle version", "x", "1", "", false, nil, []string{"bundle's signed version"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckVersion(tc.bundle, tc.running, tc.other, tc.allow)
			if tc.want == nil && tc.text == nil {
				if err != nil {
					t.Fatalf("CheckVersion = %v, want nil", err)
				}
				return
			}
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("CheckVersion = %v, want %v", err, tc.want)
			}
			for _, s := range tc.text {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("CheckVersion = %q, want it to say %q", err, s)
				}
			}
		})
	}
}

// TestServiceDowngrade posts validly signed bundles to a device running
// version 5: an older one is refused (409, naming both versions) and
// writes nothing; a newer one is written with its version beside it; then,
// running the old slot with the new one good, a bundle between the two is
// refused for the other slot; a device whose design allows downgrades takes
// the older one.
func TestServiceDowngrade(t *testing.T) {
	esp := t.TempDir()
	os.MkdirAll(filepath.Join(esp, EntriesDir), 0o755)
	os.WriteFile(filepath.Join(esp, EntriesDir, EntryFile("a", 1, 0)), []byte(EntryText("a", 1, "")), 0o644)
	pub, priv := testKey(t)
	svc := &Service{Key: pub, Board: "qemu-x86_64", ESP: esp, Running: "a", Version: "5"}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	post := func(version string) (int, string) {
		t.Helper()
		var buf bytes.Buffer
		if err := Sign(&buf, priv, Header{Board: "qemu-x86_64", Version: version}, testFiles()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(srv.URL+"/update", "application/octet-stream", &buf)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := post("4")
	if code != http.StatusConflict || !strings.Contains(body, "version 4") || !strings.Contains(body, "version 5") {
		t.Errorf("POST version 4 to a device at 5 = %d %q, want 409 naming both versions", code, body)
	}
	if _, err := os.Stat(filepath.Join(esp, "slot-b")); err == nil {
		t.Errorf("a refused downgrade wrote slot-b")
	}
	if code, body := post("6"); code != http.StatusOK || !strings.Contains(body, "OK: ") {
		t.Fatalf("POST version 6 = %d %q, want 200", code, body)
	}
	if v, err := SlotVersion(esp, "b"); v != "6" || err != nil {
		t.Errorf("SlotVersion(b) = %q, %v; want 6", v, err)
	}
	// B is still on trial: its version does not count yet.
	if v, _ := OtherVersion(esp, "a"); v != "" {
		t.Errorf("OtherVersion with B on trial = %q, want none", v)
	}
	if _, err := Bless(esp, "b"); err != nil {
		t.Fatal(err)
	}
	// A (5) runs again with B (6) good: 5.5 is older than B.
	code, body = post("5.5")
	if code != http.StatusConflict || !strings.Contains(body, "the other slot is version 6") {
		t.Errorf("POST 5.5 with B good at 6 = %d %q, want 409 naming the other slot", code, body)
	}
	svc.AllowDowngrade = true
	if code, body := post("3"); code != http.StatusOK {
		t.Errorf("POST 3 with update.allow_downgrade = %d %q, want 200", code, body)
	}
	if v, _ := SlotVersion(esp, "b"); v != "3" {
		t.Errorf("SlotVersion(b) after the allowed downgrade = %q, want 3", v)
	}
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"", "1", "1.4.2", "1..2", "v1", "2026.12.3.7", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		if len(v) > maxVersionParts || v.Compare(v) != 0 {
			t.Fatalf("ParseVersion(%q) = %v", s, v)
		}
	})
}

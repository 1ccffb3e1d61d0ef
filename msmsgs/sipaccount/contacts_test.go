package sipaccount

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/msmsgs/client"
)

func testConfig(contacts string) Config {
	return Config{UA: sipua.Config{URI: "sip:alice@lab.test", Server: "127.0.0.1:1",
		Kerberos: kerberos.Config{Realm: "LAB.TEST", KDCs: []string{"127.0.0.1:1"}, Password: "x"}},
		ContactsFile: contacts, Publish: func(e client.Event) client.Event { return e }}
}

// TestContactsFile: the watched contacts survive a restart through the
// contacts file, which is rewritten when one is removed; a broken file
// stops the account with an error naming it.
func TestContactsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sip-contacts.json")
	if err := os.WriteFile(path, []byte(`["sip:bob@lab.test","sip:carol@lab.test"]`), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := New(testConfig(path))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range a.Contacts() {
		got = append(got, c.Account+"="+string(c.Status))
	}
	if want := []string{"sip:bob@lab.test=FLN", "sip:carol@lab.test=FLN"}; !slices.Equal(got, want) {
		t.Errorf("Contacts() = %v, want %v", got, want)
	}
	if err := a.Remove("sip:bob@lab.test"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != `["sip:carol@lab.test"]` {
		t.Errorf("contacts file after Remove = %s", b)
	}
	if err := a.Remove("sip:bob@lab.test"); err == nil {
		t.Error("Remove(not a contact) = nil")
	}
	for _, bad := range []string{`{"a":1}`, `["bob@lab.test"]`, `["sip:x@y\r\nVia: z"]`} {
		if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := New(testConfig(path)); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("New(contacts file %s) = %v, want an error naming %s", bad, err, path)
		}
	}
	if _, err := New(testConfig(filepath.Join(t.TempDir(), "none.json"))); err != nil {
		t.Errorf("New(no contacts file yet) = %v", err)
	}
}

func FuzzParseContacts(f *testing.F) {
	f.Add([]byte(`["sip:bob@lab.test"]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`["sip:a@b","sip:@x"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		uris, err := ParseContacts(b)
		if err != nil {
			return
		}
		if len(uris) > MaxContacts {
			t.Fatalf("%d contacts", len(uris))
		}
		for _, u := range uris {
			if checkURI(u) != nil {
				t.Fatalf("accepted %q", u)
			}
		}
	})
}

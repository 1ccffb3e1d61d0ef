package msgslang

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAvailable(t *testing.T) {
	got, err := Available("locales")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"de-DE", "en-US", "ja-JP", "qps-ploc"}, got); diff != "" {
		t.Errorf("Available(locales) mismatch (-want +got):\n%s", diff)
	}
}

func TestResolve(t *testing.T) {
	got, err := Resolve("locales", []string{"0407", "de_DE", "en-US", "0411"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join("locales", "de-DE.toml"), filepath.Join("locales", "en-US.toml"), filepath.Join("locales", "ja-JP.toml")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
	}
	if _, err := Resolve("locales", []string{"fr-FR"}); !errors.Is(err, ErrNoLocale) {
		t.Errorf("Resolve(fr-FR) error = %v, want ErrNoLocale", err)
	}
	if _, err := Resolve("locales", []string{"../x"}); !errors.Is(err, ErrLocaleName) {
		t.Errorf("Resolve(../x) error = %v, want ErrLocaleName", err)
	}
	dir := writeLocales(t, map[string]string{"de-DE.toml": "locale = \"ja-JP\"\n[strings]\n"})
	if _, err := Resolve(dir, []string{"de-DE"}); err == nil {
		t.Error("Resolve(file declaring another locale) = nil error, want one")
	}
}

package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/msmsgs/config"
)

func TestUsageExitStatus(t *testing.T) {
	var out strings.Builder
	err := runEnv(t.Context(), []string{"frobnicate"}, strings.NewReader(""), &out, &out, func(string) string { return "" })
	var ue config.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("run(frobnicate) error = %v, want a usage error (exit 2)", err)
	}
}

// TestCatalogKeys checks that every text("key") call names a catalog entry
// and every catalog entry is used, so the table can move to msgslang.
func TestCatalogKeys(t *testing.T) {
	var files []string
	for _, dir := range []string{".", "config", "console", "ctlproto", "daemon", "transfer", "window"} {
		fs, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fs...)
	}
	settingsKey := declaredSettings(t)
	re := regexp.MustCompile(`(?:[tT]ext|line)\("([a-z][a-z0-9.-]*[a-z0-9])"`)
	used := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "strings.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			if settingsKey[m[1]] {
				continue // a settings-file key (f.Text("msmsgs.server")), not a string
			}
			used[m[1]] = true
			if _, ok := catalog[m[1]]; !ok {
				t.Errorf("%s: text key %q missing from the catalog in strings.go", f, m[1])
			}
		}
	}
	for k := range catalog {
		if settingsKey[k] {
			t.Errorf("catalog key %q is also a declared setting, which this check skips: rename the string", k)
		}
		if strings.HasPrefix(k, "status.") {
			continue // looked up as "status." + code
		}
		if !used[k] {
			t.Errorf("catalog key %q is never used", k)
		}
	}
}

// declaredSettings are the keys the catalog's manifests declare as
// settings: msmsgs reads them with the same f.Text("...") form as strings.
func declaredSettings(t *testing.T) map[string]bool {
	cat, err := feature.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, it := range cat.Items {
		for k := range it.Settings {
			keys[k] = true
		}
	}
	return keys
}

// TestNoMissingKeyWarnings: reading the settings (flags registered before
// the locale is known) never asks a catalog for a key it lacks.
func TestNoMissingKeyWarnings(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)
	var out strings.Builder
	_ = runEnv(t.Context(), []string{"console", "-account", "a@example.com"}, strings.NewReader(""), &out, &out, func(string) string { return "" })
	if strings.Contains(logs.String(), "no string for key") || strings.Contains(out.String(), "no string for key") {
		t.Errorf("settings parsing warned about missing keys:\n%s%s", logs.String(), out.String())
	}
}

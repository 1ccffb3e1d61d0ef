package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantErr   bool
		wantUsage bool
		wantOut   []string
	}{
		{"shipped locales against msmsgs", []string{"-keys-from", "../../../msmsgs/strings.go", "../../locales"}, false, false, []string{"ok: ../../locales: "}},
		{"shipped locales against en-US", []string{"../../locales"}, false, false, []string{"ok:"}},
		{"missing key", []string{"../../check/testdata/missing-key"}, true, false, []string{`de-DE.toml: "con.unknown": missing`}},
		{"bad placeholder", []string{"-source", "en_US", "../../check/testdata/bad-placeholder"}, true, false, []string{`de-DE.toml: "con.presence": argument 3 is formatted with %d`}},
		{"stale keys against msmsgs", []string{"-keys-from", "../../../msmsgs/strings.go", "../../check/testdata/good"}, true, false, []string{`stale key`, `missing`}},
		{"changed since", []string{"-changed-since", "../../check/testdata/changed-since-old.toml", "../../check/testdata/good"}, true, false, []string{`de-DE.toml: "con.unknown": source text changed`}},
		{"changed since missing file", []string{"-changed-since", "nope.toml", "../../check/testdata/good"}, true, false, nil},
		{"no dir", nil, true, true, nil},
		{"bad flag", []string{"-nope", "x"}, true, true, nil},
		{"missing source", []string{"-source", "fr-FR", "../../locales"}, true, false, nil},
		{"bad keys-from", []string{"-keys-from", "nope.go", "../../locales"}, true, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tt.args, strings.NewReader(""), &out, &errOut)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run(%q) = %v, want error %v\nstdout:\n%s", tt.args, err, tt.wantErr, out.String())
			}
			var u usageError
			if errors.As(err, &u) != tt.wantUsage {
				t.Errorf("run(%q) = %v, want usage error %v", tt.args, err, tt.wantUsage)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("run(%q) stdout = %q, want it to contain %q", tt.args, out.String(), w)
				}
			}
		})
	}
}

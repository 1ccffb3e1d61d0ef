package feature

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const validManifest = `
id = "SYSGEN_TEST"
title = "Test item"
name_source = "chosen"
license = "BSD-3-Clause"
requires = ["SYSGEN_OTHER"]
needs = ["audio"]
commands = ["./msmsgs"]

[settings."x.y"]
type = "int"
default = 1
meaning = "a test setting"

[[ports]]
proto = "tcp"
ports = "6891-6900"
direction = "in/out"
purpose = "file transfer"
`

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // substring; "" = success
	}{
		{"valid", validManifest, ""},
		{"unknown key names line", "id = \"SYSGEN_A\"\ntitle = \"A\"\nname_source = \"ce5\"\nlicense = \"MIT\"\nrequiers = [\"SYSGEN_B\"]\n", `x.toml:5: invalid manifest: unknown key "requiers"`},
		{"unknown key in table", validManifest + "\n[[ports]]\nproto = \"udp\"\nports = \"53\"\ndirection = \"out\"\npurpose = \"dns\"\nprotocol = \"x\"\n", `unknown key "ports.protocol"`},
		{"syntax error has line", "id = \"SYSGEN_A\"\ntitle = \n", "x.toml:2:"},
		{"missing id", "title = \"A\"\n", `missing "id"`},
		{"lower-case id", "id = \"sysgen_a\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n", "upper-case"},
		{"missing license", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\n", `missing "license"`},
		{"bad name source", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"x\"\nlicense=\"MIT\"\n", "name_source"},
		{"bad port", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[[ports]]\nproto=\"tcp\"\nports=\"70000\"\ndirection=\"out\"\npurpose=\"p\"\n", "out of range"},
		{"reversed range", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[[ports]]\nproto=\"tcp\"\nports=\"9-1\"\ndirection=\"out\"\npurpose=\"p\"\n", "reversed"},
		{"bad direction", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[[ports]]\nproto=\"tcp\"\nports=\"1\"\ndirection=\"both\"\npurpose=\"p\"\n", "direction"},
		{"self reference", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\nrequires=[\"SYSGEN_A\"]\n", "refers to itself"},
		{"file escapes folder", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[[files]]\nsrc=\"../x\"\ndst=\"/x\"\n", "inside the item's folder"},
		{"bsp without table", "id = \"BSP_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\nkind=\"bsp\"\n", "needs a [bsp] table"},
		{"wrong type", "id = 5\n", "x.toml"},
		{"flat setting", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings]\n\"a.b\" = 1\n", "declare each setting as a table"},
		{"setting without type", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings.\"a.b\"]\ndefault = 1\nmeaning = \"m\"\n", "type = \"\": use one of"},
		{"setting bad type", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings.\"a.b\"]\ntype = \"float\"\nmeaning = \"m\"\n", "type = \"float\""},
		{"setting without meaning", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings.\"a.b\"]\ntype = \"int\"\n", "missing meaning"},
		{"setting default wrong type", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings.\"a.b\"]\ntype = \"duration\"\ndefault = 60\nmeaning = \"m\"\n", "want a duration"},
		{"setting bad key", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings.\"A B\"]\ntype = \"int\"\nmeaning = \"m\"\n", "lower-case dotted"},
		{"setting unknown field", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n[settings.\"a.b\"]\ntype = \"int\"\nmeaning = \"m\"\ndefualt = 1\n", "unknown key"},
		{"deep nesting refused", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\nx = " + strings.Repeat("[", 9) + "\n", "nested deeper than 8"},
		{"long dotted key refused", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n" + strings.Repeat("a.", 9) + "a = 1\n", "more than 8 parts"},
		{"long key refused", "id = \"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n" + strings.Repeat("k", 129) + " = 1\n", "longer than 128 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.toml", []byte(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse() = %v, want error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, ErrManifest) && !strings.Contains(err.Error(), "x.toml") {
				t.Errorf("Parse() error %v neither wraps ErrManifest nor names the file", err)
			}
		})
	}
}

func TestNewDuplicateAndUnknown(t *testing.T) {
	a := &Item{ID: "SYSGEN_A", Title: "A", File: "a/feature.toml", Requires: []string{"SYSGEN_BB"}}
	a2 := &Item{ID: "SYSGEN_A", Title: "A again", File: "b/feature.toml"}
	b := &Item{ID: "SYSGEN_B", Title: "B", File: "c/feature.toml"}
	_, err := New([]*Item{a, a2, b})
	if err == nil {
		t.Fatal("New() = nil error, want duplicate and unknown errors")
	}
	for _, want := range []string{"duplicate id SYSGEN_A in a/feature.toml and b/feature.toml", "unknown item SYSGEN_BB (did you mean SYSGEN_B?)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("New() error = %v, want it to contain %q", err, want)
		}
	}
}

func TestLoadRealCatalog(t *testing.T) {
	cat, err := Load("..")
	if err != nil {
		t.Fatalf("Load(repo) = %v", err)
	}
	for _, id := range []string{"SYSGEN_MESSENGER", "SYSGEN_RTC", "SYSGEN_SHDOCVW", "BSP_QEMU_X86_64", "BSP_QEMU_AARCH64"} {
		if _, ok := cat.Lookup(id); !ok {
			t.Errorf("catalog lacks %s", id)
		}
	}
	if _, ok := cat.BSP("qemu-aarch64"); !ok {
		t.Error(`BSP("qemu-aarch64") not found`)
	}
}

func TestLoadSkipsTestdataAndReportsAll(t *testing.T) {
	dir := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/feature.toml", "id=\"SYSGEN_A\"\ntitle=\"A\"\nname_source=\"ce5\"\nlicense=\"MIT\"\n")
	write("testdata/bad/feature.toml", "garbage = ")
	write("b/feature.toml", "id=\"SYSGEN_B\"\ntitle=\"B\"\nname_source=\"ce5\"\nlicense=\"MIT\"\nbogus=1\n")
	write("c/feature.toml", "id=\"SYSGEN_C\"\ntitle=\"C\"\nname_source=\"ce5\"\nlicense=\"MIT\"\nwrong=1\n")
	_, err := Load(dir)
	if err == nil {
		t.Fatal("Load() = nil, want errors for b and c")
	}
	for _, want := range []string{"b/feature.toml:5", "c/feature.toml:5"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load() = %v, want %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "testdata") {
		t.Errorf("Load() read testdata: %v", err)
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"SYSGEN_MESSENGER", "SYSGEN_RTC", "SYSGEN_SHDOCVW"}
	tests := map[string]string{
		"SYSGEN_MESENGER":               " (did you mean SYSGEN_MESSENGER?)",
		"SYSGEN_RTCC":                   " (did you mean SYSGEN_RTC?)",
		"SYSGEN_NOTHING_LIKE_IT_AT_ALL": "",
	}
	for in, want := range tests {
		if got := Suggest(in, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte("id = \"BSP_X\"\nkind = \"bsp\"\n[bsp]\nname = \"x\"\n"))
	f.Add([]byte("[[ports]]\nports = \"1-2\"\n"))
	for _, p := range []string{"../msmsgs/feature.toml", "../bsp/qemu-x86_64/feature.toml", "../feature/tcpip/feature.toml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := Parse("fuzz.toml", data)
		if err != nil {
			if it != nil {
				t.Fatal("Parse returned an item and an error")
			}
			return
		}
		if it.ID == "" || it.Title == "" {
			t.Fatalf("Parse accepted an item without id or title: %+v", it)
		}
		for _, p := range it.Ports {
			if err := p.validate(); err != nil {
				t.Fatalf("accepted invalid port %+v: %v", p, err)
			}
		}
	})
}

// FuzzDecodeFast checks that the fast decoder accepts only what the strict
// one accepts (no error, no unknown key) and decodes it to the same item.
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte("id = \"BSP_X\"\nkind = \"bsp\"\n[bsp]\nname = \"x\"\n"))
	f.Add([]byte("[[ports]]\nports = \"1-2\"\n"))
	f.Add([]byte("id = \"A\"\n[settings.\"a.b\"]\ntype = \"int\"\ndefault = 1979-05-27\n"))
	f.Add([]byte("id = \"A\"\n[settings.\"a.b\"]\ndefault = [1, \"x\", 2.5, true]\n"))
	f.Add([]byte("id = \"A\"\nid = \"B\"\n"))
	f.Add([]byte("id = \"A\"\nbogus = 1\n"))
	f.Add([]byte("[bsp.kernel]\nversion = \"1\"\n[bsp]\nname = \"x\"\n"))
	matches, _ := filepath.Glob("../*/feature.toml")
	more, _ := filepath.Glob("../*/*/feature.toml")
	for _, p := range append(matches, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if CheckTOML("fuzz.toml", data, ManifestLimits) != nil {
			return
		}
		var fast Item
		if decodeFast(data, &fast) != nil {
			return
		}
		var strict Item
		if err := decodeStrict("fuzz.toml", data, &strict); err != nil {
			t.Fatalf("fast decoder accepted what the strict one refuses: %v\n%q", err, data)
		}
		if diff := cmp.Diff(strict, fast); diff != "" {
			t.Fatalf("fast and strict decoders differ (-strict +fast):\n%s\n%q", diff, data)
		}
	})
}

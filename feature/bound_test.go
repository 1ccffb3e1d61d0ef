package feature

import (
	"errors"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestCheckTOML(t *testing.T) {
	lim := Limits{Size: 1000, Nesting: 3, KeyParts: 3, KeyLen: 20}
	for _, tc := range []struct {
		name, in, want string // want "" = accepted
	}{
		{"plain", "a = 1\n[b.c]\nd = [1, [2, [3]]]\n", ""},
		{"inline tables", "a = {b = {c = 1}}\n", ""},
		{"brackets in strings", "a = \"[[[[[[\"\nb = '{{{{{{'\nc = \"\"\"\n[[[[[\n\"\"\"\n", ""},
		{"brackets in comments", "a = 1 # [[[[[[[[\n# {{{{{{{{\n", ""},
		{"dots in quoted keys", "\"a.b.c.d.e\" = 1\n[\"x.y.z.w\"]\n", ""},
		{"escaped quote", "a = \"\\\"[[[[[\"\n", ""},
		{"too big", strings.Repeat("#", 1001), "larger than the 1000 bytes"},
		{"deep arrays", "a = [[[[1]]]]\n", "deeper than 3 levels"},
		{"deep inline", "a = {b = {c = {d = {e = 1}}}}\n", "deeper than 3 levels"},
		{"deep across lines", "a = [\n[\n[\n[\n1]]]]\n", ":4: over the limit"},
		{"long dotted key", "a.b.c.d = 1\n", "more than 3 parts"},
		{"long header", "[a.b.c.d]\n", "more than 3 parts"},
		{"long array header", "[[a.b.c.d]]\n", "more than 3 parts"},
		{"long inline key", "x = {a.b.c.d = 1}\n", "more than 3 parts"},
		{"long key", strings.Repeat("k", 21) + " = 1\n", "longer than 20 bytes"},
		{"long quoted key", "\"" + strings.Repeat("k", 30) + "\" = 1\n", "longer than 20 bytes"},
		{"long header key", "[" + strings.Repeat("k", 30) + "]\n", "longer than 20 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckTOML("x.toml", []byte(tc.in), lim)
			if tc.want == "" {
				if err != nil {
					t.Errorf("CheckTOML(%q) = %v, want nil", tc.in, err)
				}
				return
			}
			if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckTOML(%q) = %v, want ErrLimit containing %q", tc.in, err, tc.want)
			}
		})
	}
}

// depth is the nesting depth of a decoded TOML value.
func depth(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []map[string]any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	case []any:
		for _, e := range x {
			d = max(d, depth(e))
		}
		return d + 1
	}
	return 0
}

// FuzzCheckTOML checks that the pre-scan cannot be fooled: whatever it
// accepts and the decoder decodes is no deeper than the limits allow
// (header parts + key parts + nested values each with an inline key), and
// the scan never panics.
func FuzzCheckTOML(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte("a = [[[[1]]]]\n"))
	f.Add([]byte("x = {a.b = {c = [1, {d = 2}]}}\n[t.u]\n\"q.r\" = '''\n[[\n'''\n"))
	f.Add([]byte("a = \"\"\"x\\\n\"\"\"\nb = 1\n"))
	lim := Limits{Size: 4096, Nesting: 3, KeyParts: 3, KeyLen: 32}
	bound := 2*lim.KeyParts + lim.Nesting*(lim.KeyParts+1) + 1
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := CheckTOML("f.toml", data, lim); err != nil {
			return
		}
		var m map[string]any
		if _, err := toml.Decode(string(data), &m); err != nil {
			return
		}
		if d := depth(m); d > bound {
			t.Fatalf("CheckTOML accepted a document %d deep, more than the %d its limits allow:\n%q", d, bound, data)
		}
	})
}

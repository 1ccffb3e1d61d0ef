package settings

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const sample = `{
  "a.int": 6,
  "a.bool": true,
  "a.text": "hello",
  "a.wait": "1m30s",
  "a.addr": "10.0.2.2:1863",
  "a.list": ["x", "y"],
  "a.ports": "6891-6900",
  "a.port": "1863",
  "a.float": 1.5
}`

func TestAccessors(t *testing.T) {
	f, err := Parse("settings.json", []byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Int("a.int"); n != 6 || err != nil {
		t.Errorf("Int = %v, %v, want 6", n, err)
	}
	if b, err := f.Bool("a.bool"); !b || err != nil {
		t.Errorf("Bool = %v, %v, want true", b, err)
	}
	if s, err := f.Text("a.text"); s != "hello" || err != nil {
		t.Errorf("Text = %q, %v", s, err)
	}
	if d, err := f.Duration("a.wait"); d != 90*time.Second || err != nil {
		t.Errorf("Duration = %v, %v, want 1m30s", d, err)
	}
	if s, err := f.HostPort("a.addr"); s != "10.0.2.2:1863" || err != nil {
		t.Errorf("HostPort = %q, %v", s, err)
	}
	if l, err := f.List("a.list"); !cmp.Equal(l, []string{"x", "y"}) || err != nil {
		t.Errorf("List = %v, %v", l, err)
	}
	if p, err := f.PortRange("a.ports"); p != (Ports{6891, 6900}) || err != nil || p.String() != "6891-6900" {
		t.Errorf("PortRange = %v, %v", p, err)
	}
	if p, err := f.PortRange("a.port"); p != (Ports{1863, 1863}) || err != nil || p.String() != "1863" {
		t.Errorf("PortRange(one port) = %v, %v", p, err)
	}
	if _, err := f.Int("a.missing"); !errors.Is(err, ErrUnset) || !IsUnset(err) || !strings.Contains(err.Error(), "a.missing") {
		t.Errorf("Int(missing) = %v, want ErrUnset naming the key", err)
	}
	for _, tc := range []struct {
		read func() error
		want string
	}{
		{func() error { _, err := f.Int("a.text"); return err }, "want an int"},
		{func() error { _, err := f.Int("a.float"); return err }, "want an int"},
		{func() error { _, err := f.Duration("a.int"); return err }, "want a duration"},
		{func() error { _, err := f.Duration("a.text"); return err }, `"hello" is not a duration`},
		{func() error { _, err := f.HostPort("a.text"); return err }, "want a host:port"},
		{func() error { _, err := f.PortRange("a.addr"); return err }, "want a port-range"},
		{func() error { _, err := f.List("a.text"); return err }, "want a strings list"},
		{func() error { _, err := f.Bool("a.int"); return err }, "want a bool"},
	} {
		err := tc.read()
		if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "settings.json") {
			t.Errorf("read = %v, want ErrType containing %q and the file name", err, tc.want)
		}
	}
	reads := f.Reads()
	if reads["a.wait"] != Duration || reads["a.missing"] != Int {
		t.Errorf("Reads() = %v, want a.wait as duration and a.missing as int", reads)
	}
	if f.Len() != 9 || f.Keys()[0] != "a.addr" {
		t.Errorf("Len() = %d, Keys() = %v", f.Len(), f.Keys())
	}
}

func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"not json", "nope", "not a JSON object"},
		{"array", "[1]", "not a JSON object"},
		{"null", "null", "not a JSON object"},
		{"table", `{"a.b": {"c": 1}}`, "flat dotted keys"},
		{"big value", `{"a.b": "` + strings.Repeat("x", MaxValueSize+1) + `"}`, "more than 4096"},
		{"big file", `{"a.b": "` + strings.Repeat("x", MaxFileSize) + `"}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Parse("s.json", []byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "settings.json")
	if _, err := Load(p); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	os.WriteFile(p, []byte(sample), 0o644)
	f, err := Load(p)
	if err != nil || f.Name() != p {
		t.Fatalf("Load = %v, %v", f, err)
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		in   any
		want any
		err  string
	}{
		{Int, int64(5), int64(5), ""},
		{Int, 5.0, int64(5), ""},
		{Int, 5.5, nil, "want an int"},
		{Int, "5", nil, "want an int"},
		{Bool, false, false, ""},
		{String, "x", "x", ""},
		{String, strings.Repeat("x", MaxValueSize+1), nil, "more than the 4096"},
		{Duration, "10s", "10s", ""},
		{Duration, "-1s", nil, "negative"},
		{Duration, int64(10), nil, `want a duration (a quoted Go duration like "60s"`},
		{HostPort, "h:1", "h:1", ""},
		{HostPort, "[::1]:1863", "[::1]:1863", ""},
		{HostPort, "h:0", nil, "not 1-65535"},
		{HostPort, ":80", nil, "no usable host"},
		{HostPort, "h", nil, "not host:port"},
		{PortRange, "1-2", "1-2", ""},
		{PortRange, "2-1", nil, "reversed"},
		{PortRange, "0", nil, "out of 1-65535"},
		{PortRange, "a-b", nil, "not a port"},
		{Strings, []any{"a", "b"}, []string{"a", "b"}, ""},
		{Strings, []any{"a", int64(1)}, nil, "quoted string"},
		{Strings, make([]any, MaxListLen+1), nil, "quoted string"},
		{Type("float"), 1.0, nil, `"float" is not a setting type`},
	} {
		got, err := tc.typ.Normalize(tc.in)
		if tc.err != "" {
			if !errors.Is(err, ErrType) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s.Normalize(%v) = %v, want ErrType containing %q", tc.typ, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%s.Normalize(%v) = %v, %v, want %v", tc.typ, tc.in, got, err, tc.want)
		}
	}
	long := make([]any, MaxListLen+1)
	for i := range long {
		long[i] = "x"
	}
	if _, err := Strings.Normalize(long); err == nil || !strings.Contains(err.Error(), "entries") {
		t.Errorf("Strings.Normalize(%d entries) = %v, want an error", len(long), err)
	}
}

// FuzzParse feeds the device loader arbitrary files and reads every key
// with every accessor: no panic, and whatever a typed accessor returns
// is in its type's canonical form.
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte(`{"a.b": 1e400}`))
	f.Add([]byte(`{"a.b": [1, "x"], "c.d": null}`))
	f.Add([]byte(`{"a.b": "99999-1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.json", data)
		if err != nil {
			return
		}
		for _, k := range s.Keys() {
			if d, err := s.Duration(k); err == nil && d < 0 {
				t.Errorf("Duration(%q) = %v < 0", k, d)
			}
			if p, err := s.PortRange(k); err == nil && (p.Low < 1 || p.High > 65535 || p.Low > p.High) {
				t.Errorf("PortRange(%q) = %v", k, p)
			}
			if hp, err := s.HostPort(k); err == nil {
				if _, _, err := ParseHostPort(hp); err != nil {
					t.Errorf("HostPort(%q) = %q does not parse again: %v", k, hp, err)
				}
			}
			if l, err := s.List(k); err == nil && len(l) > MaxListLen {
				t.Errorf("List(%q) has %d entries", k, len(l))
			}
			s.Int(k)
			s.Bool(k)
			if v, err := s.Text(k); err == nil && len(v) > MaxValueSize {
				t.Errorf("Text(%q) is %d bytes", k, len(v))
			}
		}
	})
}

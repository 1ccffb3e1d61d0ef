package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oemkit/messenger/msmsgs/client"
)

func TestParseSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "settings.json")
	if err := os.WriteFile(cfg, []byte(`{"msmsgs.server":"file:1863","msmsgs.account":"a@b.c","msmsgs.password":"pw",
		"msmsgs.ca_file":"/ca.pem","msmsgs.insecure_http":true,"msmsgs.state_dir":"/var/lib/msmsgs","net.dhcp":true,"audio.rate":16000}`), 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want settings
	}{
		{"file only", []string{"-config", cfg}, nil,
			settings{Server: "file:1863", Account: "a@b.c", Password: "pw", CAFile: "/ca.pem", InsecureHTTP: true, StateDir: "/var/lib/msmsgs", Ctl: "/var/lib/msmsgs/ctl.sock"}},
		{"flags override", []string{"-config", cfg, "-server", "flag:1", "-password-file", pwFile, "-ctl", "/tmp/x"}, nil,
			settings{Server: "flag:1", Account: "a@b.c", Password: "from-file", PasswordFile: pwFile, CAFile: "/ca.pem", InsecureHTTP: true, StateDir: "/var/lib/msmsgs", Ctl: "/tmp/x"}},
		{"env password", []string{"-server", "s:1", "-account", "x@y.z"}, map[string]string{"MSMSGS_PASSWORD": "envpw"},
			settings{Server: "s:1", Account: "x@y.z", Password: "envpw", Ctl: defaultCtl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := parseSettings("daemon", tt.args, &strings.Builder{})
			if err != nil {
				t.Fatalf("parseSettings(%q) error %v", tt.args, err)
			}
			if err := s.validate(env(tt.env)); err != nil {
				t.Fatalf("validate() error %v", err)
			}
			s.ConfigFile, s.timers = "", timers{}
			if diff := cmp.Diff(tt.want, *s, cmp.AllowUnexported(settings{}, timers{})); diff != "" {
				t.Errorf("settings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSettingsErrors(t *testing.T) {
	tests := []struct {
		name, file string
		args       []string
		want       string
	}{
		{"no server", "", []string{"-account", "a@b.c"}, "no server"},
		{"no account", "", []string{"-server", "x:1"}, "no account"},
		{"no password", "", []string{"-server", "x:1", "-account", "a@b.c"}, "no password"},
		{"bad status", "", []string{"-server", "x:1", "-account", "a@b.c", "-status", "sleepy"}, "unknown status"},
		{"typo key", `{"msmsgs.sever":"x"}`, nil, `unknown key "msmsgs.sever"`},
		{"not json", `msmsgs.server=x`, nil, "settings file"},
		{"bad bool", `{"msmsgs.insecure_http":"maybe"}`, nil, "want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				p := filepath.Join(t.TempDir(), "s.json")
				if err := os.WriteFile(p, []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
				args = append([]string{"-config", p}, args...)
			}
			s, err := parseSettings("daemon", args, &strings.Builder{})
			if err == nil {
				err = s.validate(func(k string) string {
					if k == "MSMSGS_PASSWORD" && tt.name != "no password" {
						return "pw"
					}
					return ""
				})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("settings(%q) error = %v, want one containing %q", args, err, tt.want)
			}
		})
	}
}

func TestUsageExitStatus(t *testing.T) {
	var out strings.Builder
	err := runEnv(t.Context(), []string{"frobnicate"}, strings.NewReader(""), &out, &out, func(string) string { return "" })
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("run(frobnicate) error = %v, want a usage error (exit 2)", err)
	}
}

func TestParseStatus(t *testing.T) {
	for in, want := range map[string]string{"busy": "BSY", "BSY": "BSY", "online": "NLN", "hidden": "HDN", "Away": "AWY", "lunch": "LUN", "phone": "PHN", "brb": "BRB", "idle": "IDL"} {
		if got, err := parseStatus(in); err != nil || string(got) != want {
			t.Errorf("parseStatus(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"FLN", "offline", "", "sleepy"} {
		if got, err := parseStatus(in); err == nil {
			t.Errorf("parseStatus(%q) = %q, want error", in, got)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hello", "hello"},
		{"Jos\u00e9", "Jos\u00e9"},
		{"a\x1b[2Jb", "a?[2Jb"},
		{"a\u009b2Jb", "a?2Jb"},
		{"a\x7fb\r\n", "a?b??"},
		{"\xff", "?"},
		{"\U0001F600", "\U0001F600"},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMatchEvent(t *testing.T) {
	e := client.Event{Type: "presence", Account: "bob@example.com", Status: "BSY"}
	tests := []struct {
		typ     string
		filters []string
		want    bool
	}{
		{"presence", nil, true},
		{"any", nil, true},
		{"message", nil, false},
		{"presence", []string{"account=BOB@example.com"}, true},
		{"presence", []string{"status=busy"}, true},
		{"presence", []string{"status=NLN"}, false},
		{"presence", []string{"account=bob@example.com", "status=BSY"}, true},
		{"presence", []string{"bogus=1"}, false},
	}
	for _, tt := range tests {
		if got := matchEvent(e, tt.typ, tt.filters); got != tt.want {
			t.Errorf("matchEvent(%s, %q) = %v, want %v", tt.typ, tt.filters, got, tt.want)
		}
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`{"args":["send","bob@x","hi"]}`, []string{"send", "bob@x", "hi"}, true},
		{`{"args":["status"]}`, []string{"status"}, true},
		{`{"args":[]}`, nil, false},
		{`{"args":["rm","-rf"]}`, nil, false},
		{`not json`, nil, false},
		{`{"args":"send"}`, nil, false},
	}
	for _, tt := range tests {
		r, err := parseRequest([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("parseRequest(%s) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && !cmp.Equal(r.Args, tt.want) {
			t.Errorf("parseRequest(%s) = %q, want %q", tt.in, r.Args, tt.want)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"args":["send","bob@x","hi"]}`))
	f.Add([]byte(`{"args":["wait","-timeout","5s","presence","status=BSY"]}`))
	f.Add([]byte(`{"args":[]}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRequest(b)
		if err != nil {
			return
		}
		if len(r.Args) == 0 {
			t.Fatalf("parseRequest(%q) accepted an empty request", b)
		}
		if _, ok := commandArity[r.Args[0]]; !ok {
			t.Fatalf("parseRequest(%q) accepted unknown command %q", b, r.Args[0])
		}
		// Re-encoding gives the same request.
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := parseRequest(again)
		if err != nil || !cmp.Equal(r, r2) {
			t.Fatalf("round trip of %q: %v, %v", b, r2, err)
		}
	})
}

func FuzzSettingsFile(f *testing.F) {
	f.Add([]byte(`{"msmsgs.server":"x:1","msmsgs.insecure_http":true,"other.key":[1,2]}`))
	f.Add([]byte(`{"msmsgs.account":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s settings
		_ = s.parseSettingsFile(b) // must not panic
	})
}

// TestCatalogKeys checks that every text("key") call names a catalog entry
// and every catalog entry is used, so the table can move to msgslang.
func TestCatalogKeys(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?:text|line)\("([a-z][a-z0-9.-]*[a-z0-9])"`)
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
			used[m[1]] = true
			if _, ok := catalog[m[1]]; !ok {
				t.Errorf("%s: text key %q missing from the catalog in strings.go", f, m[1])
			}
		}
	}
	for k := range catalog {
		if strings.HasPrefix(k, "status.") {
			continue // looked up as "status." + code
		}
		if !used[k] {
			t.Errorf("catalog key %q is never used", k)
		}
	}
}

var _ = time.Second

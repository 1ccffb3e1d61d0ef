package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oemkit/messenger/msgslang"
)

// testLang is the shipped en-US locale (the same text as msmsgs/strings.go).
func testLang() *msgslang.Catalog {
	return msgslang.Load(filepath.Join("..", "..", "msgslang", "locales"), "en-US", msgslang.Options{})
}

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
		want Settings
	}{
		{"file only", []string{"-config", cfg}, nil,
			Settings{Server: "file:1863", Account: "a@b.c", Password: "pw", CAFile: "/ca.pem", InsecureHTTP: true, StateDir: "/var/lib/msmsgs", Ctl: "/var/lib/msmsgs/ctl.sock"}},
		{"flags override", []string{"-config", cfg, "-server", "flag:1", "-password-file", pwFile, "-ctl", "/tmp/x"}, nil,
			Settings{Server: "flag:1", Account: "a@b.c", Password: "from-file", PasswordFile: pwFile, CAFile: "/ca.pem", InsecureHTTP: true, StateDir: "/var/lib/msmsgs", Ctl: "/tmp/x"}},
		{"env password", []string{"-server", "s:1", "-account", "x@y.z"}, map[string]string{"MSMSGS_PASSWORD": "envpw"},
			Settings{Server: "s:1", Account: "x@y.z", Password: "envpw", Ctl: DefaultCtl}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("daemon", tt.args, &strings.Builder{}, testLang())
			if err != nil {
				t.Fatalf("parseSettings(%q) error %v", tt.args, err)
			}
			if err := s.Validate(env(tt.env), testLang()); err != nil {
				t.Fatalf("validate() error %v", err)
			}
			s.ConfigFile, s.Timers = "", Timers{}
			if diff := cmp.Diff(tt.want, *s, cmp.AllowUnexported(Settings{}, Timers{})); diff != "" {
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
		{"bad bool", `{"msmsgs.insecure_http":"maybe"}`, nil, "want a bool (true or false)"},
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
			s, err := Parse("daemon", args, &strings.Builder{}, testLang())
			if err == nil {
				err = s.Validate(func(k string) string {
					if k == "MSMSGS_PASSWORD" && tt.name != "no password" {
						return "pw"
					}
					return ""
				}, testLang())
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("settings(%q) error = %v, want one containing %q", args, err, tt.want)
			}
		})
	}
}

func FuzzSettingsFile(f *testing.F) {
	f.Add([]byte(`{"msmsgs.server":"x:1","msmsgs.insecure_http":true,"other.key":[1,2]}`))
	f.Add([]byte(`{"msmsgs.account":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Settings
		_ = s.ParseFile(b) // must not panic
	})
}

func TestFTSettings(t *testing.T) {
	var s Settings
	err := s.ParseFile([]byte(`{"msmsgs.downloads":"/data/dl","msmsgs.ft_ports":"7000-7009","msmsgs.ft_max_size":"10M",
		"msmsgs.ft_address":"192.0.2.7","msmsgs.ft_auto_accept":true,"msmsgs.ft_send_rate":"1M"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Downloads: "/data/dl", FTPorts: "7000-7009", FTMaxSize: "10M", FTAddress: "192.0.2.7", FTAutoAccept: true, FTSendRate: "1M"}
	if diff := cmp.Diff(want, s, cmp.AllowUnexported(Settings{}, Timers{})); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	tests := []struct {
		s    Settings
		want string
	}{
		{Settings{Downloads: "/x"}, "/x"},
		{Settings{StateDir: "/var/lib/m"}, "/var/lib/m/downloads"},
		{Settings{}, DefaultDownloads},
	}
	for _, tt := range tests {
		if got := tt.s.DownloadsDir(); got != tt.want {
			t.Errorf("downloadsDir(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

func TestSettingsLangKeys(t *testing.T) {
	tests := []struct {
		json    string
		want    Settings
		wantErr bool
	}{
		{json: `{"msmsgs.locale": "de-DE", "msmsgs.lang_dir": "/x", "console.encoding": "utf-8"}`,
			want: Settings{Locale: "de-DE", LangDir: "/x", ConsoleEncoding: "utf-8"}},
		{json: `{"console.encoding": null, "other.key": 1}`, want: Settings{}},
		{json: `{"console.encoding": 8}`, wantErr: true},
		{json: `{"msmsgs.lang": "de-DE"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var s Settings
			err := s.ParseFile([]byte(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseFile(%s) error = %v, want error %v", tt.json, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if d := cmp.Diff(tt.want, s, cmp.AllowUnexported(Settings{}, Timers{})); d != "" {
				t.Errorf("ParseFile(%s) mismatch (-want +got):\n%s", tt.json, d)
			}
		})
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/stdio"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
)

// shippedLocale reads a locale file of ../msgslang/locales.
func shippedLocale(t *testing.T, name string) (*msgslang.Locale, []byte) {
	t.Helper()
	path := filepath.Join("..", "msgslang", "locales", msgslang.FileName(name))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read locale: %v", err)
	}
	l, err := msgslang.Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return l, data
}

// refusingServer returns the address of a loopback listener that closes
// every connection, so the console starts, fails to sign in and retries.
func refusingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// runConsoleBin runs the msmsgs binary's console with the settings file
// settings and extra flags, types /help and /quit, and returns its
// standard output and log.
func runConsoleBin(t *testing.T, bin, server string, settings map[string]string, flags ...string) (stdout, log string) {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "settings.json")
	data, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"console", "-config", cfg, "-server", server, "-account", "dan@example.com"}, flags...)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"MSMSGS_PASSWORD=dan-Pw1", "PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader("/help\n/quit\n")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("msmsgs %s: %v\nstdout:\n%s\nlog:\n%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

// warnings returns the log's warning lines.
func warnings(log string) []string {
	var w []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=WARN") {
			w = append(w, l)
		}
	}
	return w
}

// TestConsoleLocale runs the built msmsgs binary's console with locale
// files in a lang dir: the device's locale is shown without a rebuild, a
// missing locale or key falls back to English with one warning, and an
// ASCII console transliterates.
func TestConsoleLocale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the msmsgs binary")
	}
	bin := buildTool(t, "msmsgs")
	server := refusingServer(t)
	de, deData := shippedLocale(t, "de-DE")
	ja, jaData := shippedLocale(t, "ja-JP")
	str := func(l *msgslang.Locale, key string) string {
		t.Helper()
		m, ok := l.Messages[key]
		if !ok {
			t.Fatalf("%s has no %q", l.Name, key)
		}
		return m.Other
	}
	// A German file without con.welcome: that key falls back.
	var noWelcome []byte
	for _, line := range strings.SplitAfter(string(deData), "\n") {
		if !strings.HasPrefix(line, `"con.welcome" = `) {
			noWelcome = append(noWelcome, line...)
		}
	}
	if bytes.Equal(noWelcome, deData) {
		t.Fatal(`de-DE.toml has no "con.welcome" line`)
	}

	tests := []struct {
		name     string
		files    map[string][]byte // lang dir contents
		settings map[string]string
		flags    []string
		want     []string // in stdout
		notWant  []string
		warnings int
		ascii    bool // stdout must be 7-bit
	}{
		{
			name:     "de-DE utf-8",
			files:    map[string][]byte{"de-DE.toml": deData},
			settings: map[string]string{"msmsgs.locale": "de-DE", "console.encoding": "utf-8"},
			want:     []string{str(de, "con.welcome"), str(de, "con.help"), str(de, "con.bye")},
			notWant:  []string{catalog["con.welcome"], catalog["con.bye"]},
		},
		{
			name:     "de-DE ascii console (default)",
			files:    map[string][]byte{"de-DE.toml": deData},
			settings: map[string]string{"msmsgs.locale": "de-DE"},
			want:     []string{"Abmeldung laeuft", stdio.Transliterate(str(de, "con.welcome"))},
			notWant:  []string{str(de, "con.bye")},
			ascii:    true,
		},
		{
			name:     "de-DE by LCID flags",
			files:    map[string][]byte{"de-DE.toml": deData},
			settings: map[string]string{"console.encoding": "utf-8"},
			flags:    []string{"-locale", "0407"},
			want:     []string{str(de, "con.bye")},
		},
		{
			name:     "missing locale falls back to English",
			files:    map[string][]byte{"de-DE.toml": deData},
			settings: map[string]string{"msmsgs.locale": "fr-FR", "console.encoding": "utf-8"},
			want:     []string{catalog["con.welcome"], catalog["con.help"], catalog["con.bye"]},
			warnings: 1,
		},
		{
			name:     "missing key falls back to English",
			files:    map[string][]byte{"de-DE.toml": noWelcome},
			settings: map[string]string{"msmsgs.locale": "de-DE", "console.encoding": "utf-8"},
			want:     []string{catalog["con.welcome"], str(de, "con.help"), str(de, "con.bye")},
			notWant:  []string{"con.welcome"},
			warnings: 1,
		},
		{
			name:     "swapped to ja-JP",
			files:    map[string][]byte{"ja-JP.toml": jaData},
			settings: map[string]string{"msmsgs.locale": "ja-JP", "console.encoding": "utf-8"},
			want:     []string{str(ja, "con.welcome"), str(ja, "con.help"), str(ja, "con.bye")},
			notWant:  []string{catalog["con.welcome"], str(de, "con.bye")},
		},
		{
			name:     "ja-JP ascii console",
			files:    map[string][]byte{"ja-JP.toml": jaData},
			settings: map[string]string{"msmsgs.locale": "ja-JP", "console.encoding": "ascii"},
			want:     []string{"sain'autoshiteimasu", stdio.Transliterate(str(ja, "con.help"))},
			ascii:    true,
		},
	}
	// One lang dir, rewritten for each case: the same binary changes
	// language when the file on the device changes.
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range ents {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
			for name, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			settings := map[string]string{"msmsgs.lang_dir": dir}
			for k, v := range tt.settings {
				settings[k] = v
			}
			out, log := runConsoleBin(t, bin, server, settings, tt.flags...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("console output has no %q:\n%s", w, out)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(out, w) {
					t.Errorf("console output has %q:\n%s", w, out)
				}
			}
			if got := warnings(log); len(got) != tt.warnings {
				t.Errorf("log has %d warnings, want %d:\n%s", len(got), tt.warnings, strings.Join(got, "\n"))
			}
			if tt.ascii {
				for i := 0; i < len(out); i++ {
					if out[i] >= 0x80 {
						t.Fatalf("console output byte %d is %#x, not ASCII:\n%s", i, out[i], out)
					}
				}
			}
		})
	}
}

// TestBinaryHasNoTranslations checks that the built msmsgs binary carries
// none of the de-DE or ja-JP strings (strings the same as English aside):
// translations reach the device only as msgslang files.
func TestBinaryHasNoTranslations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the msmsgs binary")
	}
	data, err := os.ReadFile(buildTool(t, "msmsgs"))
	if err != nil {
		t.Fatal(err)
	}
	// The check can fail: the built-in English is in the binary.
	if got := msgslang.ContainsStrings(data, catalog); len(got) < len(catalog)/2 {
		t.Fatalf("ContainsStrings(binary, english) found %d of %d strings; the check cannot see strings", len(got), len(catalog))
	}
	for _, name := range []string{"de-DE", "ja-JP"} {
		l, _ := shippedLocale(t, name)
		table := msgslang.Without(l.Table(), catalog)
		if len(table) < len(catalog)/2 {
			t.Fatalf("%s: only %d strings differ from English", name, len(table))
		}
		if got := msgslang.ContainsStrings(data, table); len(got) != 0 {
			t.Errorf("ContainsStrings(msmsgs binary, %s) = %v, want none", name, got)
		}
	}
}

func TestConsoleEncodingSetting(t *testing.T) {
	env := func(k string) string {
		if k == "LANG" {
			return "de_DE.UTF-8"
		}
		return ""
	}
	tests := []struct {
		setting string
		want    stdio.Encoding
		wantErr bool
	}{
		{"", stdio.ASCII, false},
		{"ascii", stdio.ASCII, false},
		{"utf-8", stdio.UTF8, false},
		{"auto", stdio.UTF8, false},
		{"ebcdic", stdio.ASCII, true},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			got, err := (&config.Settings{ConsoleEncoding: tt.setting}).Encoding(env)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("consoleEncoding(%q) = %v, %v; want %v, error %v", tt.setting, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, stdio.ErrSetting) {
				t.Errorf("consoleEncoding(%q) error = %v, want stdio.ErrSetting", tt.setting, err)
			}
		})
	}
}

func TestConsoleError(t *testing.T) {
	base := config.UsageError{Err: errors.New("Kennwortdatei nicht lesbar: Datei „x“ fehlt")}
	tests := []struct {
		enc  stdio.Encoding
		want string
	}{
		{stdio.ASCII, `Kennwortdatei nicht lesbar: Datei "x" fehlt`},
		{stdio.UTF8, base.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.enc.String(), func(t *testing.T) {
			err := consoleError(base, tt.enc)
			if got := err.Error(); got != tt.want {
				t.Errorf("consoleError(%q, %v) = %q, want %q", base.Error(), tt.enc, got, tt.want)
			}
			var ue config.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("consoleError(%q, %v) hides the config.UsageError", base.Error(), tt.enc)
			}
		})
	}
	if err := consoleError(nil, stdio.ASCII); err != nil {
		t.Errorf("consoleError(nil, ascii) = %v, want nil", err)
	}
}

func TestBadConsoleEncoding(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "settings.json")
	if err := os.WriteFile(cfg, []byte(`{"console.encoding": "ebcdic", "msmsgs.lang_dir": "/nonexistent"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, log bytes.Buffer
	err := runEnv(context.Background(), []string{"console", "-config", cfg, "-server", "127.0.0.1:1", "-account", "a@example.com"},
		strings.NewReader(""), &out, &log, func(string) string { return "" })
	if want := english().Text("err.console-encoding", "ebcdic"); err == nil || err.Error() != want {
		t.Errorf("console with console.encoding ebcdic: error %v, want %q", err, want)
	}
}

// TestFlagHelpLocale checks that the flag help of the msmsgs binary is in
// the locale given by the flags, transliterated for the default ASCII
// console.
func TestFlagHelpLocale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the msmsgs binary")
	}
	bin := buildTool(t, "msmsgs")
	de, data := shippedLocale(t, "de-DE")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "de-DE.toml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "console", "-lang-dir", dir, "-locale", "de-DE", "-h")
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("msmsgs console -h: %v, want exit status 2\n%s", err, out)
	}
	want := stdio.Transliterate(de.Messages["flag.ca"].Other)
	want = strings.ReplaceAll(want, "`", "") // flag strips the value-name quotes
	if !strings.Contains(string(out), want) {
		t.Errorf("msmsgs console -h output has no %q:\n%s", want, out)
	}
}

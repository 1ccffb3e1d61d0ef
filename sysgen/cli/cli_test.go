package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// run drives the real CLI in-process from the repository root.
func run(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &Context{Args: args, Env: env, Dir: "../..", Stdout: &out, Stderr: &errb}
	err := c.Execute(context.Background())
	if err != nil {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), Code(err)
}

var messenger = []string{"SYSGEN_MESSENGER=1"}

func TestResolveJSONContract(t *testing.T) {
	out, stderr, code := run(t, messenger, "resolve", "--format", "json")
	if code != 0 {
		t.Fatalf("resolve exit %d: %s", code, stderr)
	}
	var got struct {
		Features []struct {
			ID    string     `json:"id"`
			Title string     `json:"title"`
			Why   [][]string `json:"why"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("resolve JSON: %v\n%s", err, out)
	}
	ids := map[string][][]string{}
	for _, f := range got.Features {
		if f.ID == "" || f.Title == "" || len(f.Why) == 0 {
			t.Errorf("feature %+v lacks id, title or why", f)
		}
		ids[f.ID] = f.Why
	}
	for _, dep := range []string{"SYSGEN_RTC", "SYSGEN_AUTH_KERBEROS", "SYSGEN_CERTS", "SYSGEN_IMAGING_GIF_DECODE",
		"SYSGEN_IMAGING_PNG_DECODE", "SYSGEN_SHDOCVW", "SYSGEN_STDIOA", "SYSGEN_STRSAFE", "SYSGEN_WININET", "SYSGEN_AUTH_PASSPORT"} {
		why, ok := ids[dep]
		if !ok {
			t.Errorf("%s missing from resolve output", dep)
			continue
		}
		if why[0][0] != "SYSGEN_MESSENGER" {
			t.Errorf("%s first chain = %v, want it to start at SYSGEN_MESSENGER", dep, why[0])
		}
	}
	golden(t, "messenger-resolve.json", out)
}

func TestGoldenText(t *testing.T) {
	for _, tc := range []struct {
		file string
		args []string
	}{
		{"messenger-resolve.txt", []string{"resolve"}},
		{"messenger-ports.txt", []string{"ports"}},
		{"messenger-why-shdocvw.txt", []string{"why", "SYSGEN_SHDOCVW"}},
		{"messenger-settings.json", []string{"settings", "--format", "json"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out, stderr, code := run(t, messenger, tc.args...)
			if code != 0 {
				t.Fatalf("%v exit %d: %s", tc.args, code, stderr)
			}
			golden(t, tc.file, out)
		})
	}
}

func TestPortsJSON(t *testing.T) {
	out, _, code := run(t, messenger, "ports", "--format", "json")
	if code != 0 {
		t.Fatal(code)
	}
	var ports []portEntry
	if err := json.Unmarshal([]byte(out), &ports); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range ports {
		have[p.Proto+"/"+p.Ports] = true
		if p.Feature == "" || p.Direction == "" || p.Purpose == "" {
			t.Errorf("incomplete port entry %+v", p)
		}
	}
	for _, want := range []string{"tcp/1863", "tcp/6891-6900", "tcp/6901", "udp/dynamic", "udp/53"} {
		if !have[want] {
			t.Errorf("ports lacks %s: %v", want, have)
		}
	}
}

func TestExitCodesAndMessages(t *testing.T) {
	tests := []struct {
		name     string
		env      []string
		args     []string
		code     int
		contains string
	}{
		{"bad flag value", []string{"SYSGEN_MESSENGER=yes"}, []string{"resolve"}, 1, "use SYSGEN_MESSENGER=1"},
		{"typo suggests", []string{"SYSGEN_MESENGER=1"}, []string{"resolve"}, 1, "did you mean SYSGEN_MESSENGER?"},
		{"no flags", nil, []string{"resolve"}, 1, "SYSGEN_MESSENGER=1"},
		{"why not in design", messenger, []string{"why", "SYSGEN_SHELL"}, 1, "why-not SYSGEN_SHELL"},
		{"why unknown", messenger, []string{"why", "SYSGEN_SHDOCV"}, 1, "did you mean SYSGEN_SHDOCVW?"},
		{"unknown command", messenger, []string{"reslove"}, 2, "did you mean resolve?"},
		{"bad format", messenger, []string{"resolve", "--format", "yaml"}, 2, "--format"},
		{"unknown flag", messenger, []string{"resolve", "--bogus"}, 2, "bogus"},
		{"why needs id", messenger, []string{"why"}, 2, "exactly one"},
		{"unknown bsp", messenger, []string{"resolve", "--bsp", "qemu-x86"}, 1, "did you mean qemu-x86_64?"},
		{"aarch64 resolves", messenger, []string{"resolve", "--bsp", "qemu-aarch64"}, 0, "BSP_QEMU_AARCH64"},
		{"why-not explains", messenger, []string{"why-not", "SYSGEN_SHELL"}, 0, "would work and add 1 item(s): SYSGEN_SHELL"},
		{"why-not cleared", append([]string{"SYSGEN_SHELL="}, messenger...), []string{"why-not", "SYSGEN_SHELL"}, 0, "cleared by environment"},
		{"cleared but needed", []string{"SYSGEN_MESSENGER=1", "SYSGEN_RTC="}, []string{"resolve"}, 1, "SYSGEN_RTC is cleared"},
		{"help", nil, []string{"--help"}, 0, "Commands:"},
		{"list", nil, []string{"list"}, 0, "SYSGEN_MESSENGER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, code := run(t, tt.env, tt.args...)
			if code != tt.code {
				t.Errorf("exit = %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, stderr)
			}
			if !strings.Contains(out+stderr, tt.contains) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tt.contains, out, stderr)
			}
		})
	}
}

func TestDesignFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "osdesign.toml")
	if err := os.WriteFile(p, []byte("bsp = \"qemu-aarch64\"\n[flags]\nSYSGEN_MESSENGER = true\nSYSGEN_SHELL = true\n[settings]\n\"msmsgs.server\" = \"10.0.2.2:1863\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := run(t, nil, "settings", "--design", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "10.0.2.2:1863") || !strings.Contains(out, "osdesign.toml") {
		t.Errorf("settings output lacks the design override:\n%s", out)
	}
	out, _, _ = run(t, nil, "why", "SYSGEN_SHELL", "--design", p)
	if !strings.Contains(out, "OEM flag from "+p) {
		t.Errorf("why output does not name the design file:\n%s", out)
	}
}

func TestGraph(t *testing.T) {
	out, stderr, code := run(t, messenger, "graph", "--format", "svg")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	d := xml.NewDecoder(strings.NewReader(out))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("SVG is not well-formed XML: %v", err)
			}
			break
		}
	}
	if !strings.Contains(out, "SYSGEN_SHDOCVW") || !strings.Contains(out, "<svg") {
		t.Error("SVG lacks nodes")
	}
	out, _, code = run(t, messenger, "graph", "--format", "dot")
	if code != 0 || !strings.Contains(out, `"SYSGEN_MESSENGER" -> "SYSGEN_SHDOCVW";`) {
		t.Errorf("dot output (exit %d) lacks the Messenger -> SHDOCVW edge:\n%s", code, out)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./sysgen/cli -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended run go test ./sysgen/cli -update:\n%s", name, diff)
	}
}

// TestPendingOnEveryRun checks that list, resolve and build say which items
// are still to come, from the manifests' pending marks: a line per item in
// the text output, a field in the JSON, a line on stderr for build.
func TestPendingOnEveryRun(t *testing.T) {
	var list []struct {
		ID      string `json:"id"`
		Pending string `json:"pending"`
	}
	out, stderr, code := run(t, nil, "list", "--format", "json")
	if code != 0 {
		t.Fatalf("list exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	pending := map[string]string{}
	for _, e := range list {
		if e.Pending != "" {
			pending[e.ID] = e.Pending
		}
	}
	if len(pending) == 0 {
		t.Fatal("no catalog item is pending in list --format json; the check below would prove nothing")
	}
	text, _, _ := run(t, nil, "list")
	for id, why := range pending {
		if !strings.Contains(text, "  "+id+": "+why+"\n") {
			t.Errorf("sysgen list does not say %s is pending (%q):\n%s", id, why, text)
		}
	}

	var res struct {
		Features []struct {
			ID      string `json:"id"`
			Pending string `json:"pending"`
		} `json:"features"`
		Pending []string `json:"pending"`
	}
	out, stderr, code = run(t, messenger, "resolve", "--format", "json")
	if code != 0 {
		t.Fatalf("resolve exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	var inDesign []string
	for _, f := range res.Features {
		if f.Pending != pending[f.ID] {
			t.Errorf("resolve JSON %s pending = %q, want %q", f.ID, f.Pending, pending[f.ID])
		}
		if f.Pending != "" {
			inDesign = append(inDesign, f.ID)
		}
	}
	if strings.Join(res.Pending, " ") != strings.Join(inDesign, " ") {
		t.Errorf("resolve JSON pending = %v, want %v", res.Pending, inDesign)
	}
	text, _, _ = run(t, messenger, "resolve")
	_, buildErr, code := run(t, messenger, "build", "-o", filepath.Join(t.TempDir(), "img"), "--compression", "lz4")
	if code != 1 {
		t.Errorf("build --compression lz4: exit %d, want 1", code)
	}
	if len(inDesign) == 0 {
		// Every item of the Messenger design works on the device: the
		// runs must not claim otherwise.
		if strings.Contains(text, "pending") || strings.Contains(buildErr, "sysgen: pending:") {
			t.Errorf("nothing in the Messenger design is pending, but resolve or build says so:\n%s\n%s", text, buildErr)
		}
	}
	for _, id := range inDesign {
		if !strings.Contains(text, "  "+id+": "+pending[id]+"\n") {
			t.Errorf("sysgen resolve does not say %s is pending:\n%s", id, text)
		}
		if !strings.Contains(buildErr, "sysgen: pending: "+id+" (") {
			t.Errorf("sysgen build stderr does not say %s is pending:\n%s", id, buildErr)
		}
	}
}

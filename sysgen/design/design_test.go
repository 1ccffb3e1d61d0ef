package design

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// catalogRoot is the repository: the tests use the real catalog.
const catalogRoot = "../.."

func load(t *testing.T, src Source) *Design {
	t.Helper()
	if src.Catalog == "" {
		src.Catalog = catalogRoot
	}
	d, err := Load(src)
	if err != nil {
		t.Fatalf("Load(%+v) = %v", src, err)
	}
	return d
}

// TestMessengerSpec checks the spec of SYSGEN_MESSENGER=1 against the BSP
// manifests and the items' manifests it comes from.
func TestMessengerSpec(t *testing.T) {
	for _, bsp := range []string{"qemu-x86_64", "qemu-aarch64"} {
		t.Run(bsp, func(t *testing.T) {
			d := load(t, Source{Env: []string{"SYSGEN_MESSENGER=1"}, BSP: bsp})
			spec, err := d.Spec()
			if err != nil {
				t.Fatal(err)
			}
			if err := spec.Validate(); err != nil {
				t.Fatalf("spec.Validate() = %v", err)
			}
			b := d.Result.BSP.BSP
			if spec.BSP != bsp || spec.GOARCH != b.Arch || spec.Kernel.SHA256 != b.Kernel.SHA256 || spec.Kernel.Vmlinuz != b.Kernel.Image ||
				!slices.Equal(spec.QEMU, b.QEMU) || spec.Budget != b.BudgetBytes || spec.Cmdline != b.Cmdline {
				t.Errorf("spec board fields %+v do not match the BSP manifest %s", spec, d.Result.BSP.File)
			}
			cmds := map[string]string{}
			for _, c := range spec.Commands {
				cmds[c.Pkg] = c.Feature
			}
			for pkg, want := range map[string]string{
				"github.com/oemkit/messenger/msmsgs":           "SYSGEN_MESSENGER",
				"github.com/oemkit/messenger/image/deviceinit": "SYSGEN_COREOS",
				"github.com/u-root/u-root/cmds/core/init":      "SYSGEN_COREOS",
			} {
				if cmds[pkg] != want {
					t.Errorf("command %s credited to %q, want %s", pkg, cmds[pkg], want)
				}
			}
			if spec.Shell != "" || slices.Contains(spec.Tags, "goshsmall") {
				t.Errorf("design without SYSGEN_SHELL: Shell %q, Tags %v; want no shell", spec.Shell, spec.Tags)
			}
			if spec.SettingsFeature != "SYSGEN_COREOS" {
				t.Errorf("SettingsFeature = %q, want SYSGEN_COREOS (settings_file in its manifest)", spec.SettingsFeature)
			}
			var settings map[string]any
			if err := json.Unmarshal(spec.Settings, &settings); err != nil {
				t.Fatal(err)
			}
			if settings["msmsgs.locale"] != "en-US" || settings["msmsgs.server"] != "10.0.2.2:1863" {
				t.Errorf("settings %v: want the Messenger manifest's defaults", settings)
			}
			var dsts []string
			for _, f := range spec.Files {
				dsts = append(dsts, f.Dst+"="+f.Feature)
			}
			if !slices.Equal(dsts, []string{"/usr/share/msgslang/en-US.toml=SYSGEN_MESSENGER"}) {
				t.Errorf("files %v, want only the default locale from the Messenger manifest's [locales]", dsts)
			}
			mods := map[string]bool{}
			for _, m := range spec.Modules {
				mods[m.Name+"="+m.Feature] = true
			}
			for _, want := range []string{"virtio_net=SYSGEN_ETHERNET", "snd_hda_intel=SYSGEN_AUDIO_HDA", "virtio_rng=" + d.Result.BSP.ID, "ext4=SYSGEN_STATEFS"} {
				if !mods[want] {
					t.Errorf("modules lack %s: %v", want, spec.Modules)
				}
			}
			var svcs []string
			for _, s := range spec.Services {
				svcs = append(svcs, s.Name+"="+s.Argv[0])
			}
			if !slices.Equal(svcs, []string{"timesvc=timesvc", "msmsgs=msmsgs"}) {
				t.Errorf("services = %v, want timesvc then msmsgs from their manifests (build order)", svcs)
			}
		})
	}
}

func TestShellFromManifest(t *testing.T) {
	spec, err := load(t, Source{Env: []string{"SYSGEN_MESSENGER=1", "SYSGEN_SHELL=1"}}).Spec()
	if err != nil {
		t.Fatal(err)
	}
	const gosh = "github.com/u-root/u-root/cmds/core/gosh"
	if spec.Shell != gosh || !slices.Contains(spec.Tags, "goshsmall") {
		t.Errorf("Shell = %q, Tags = %v; want %s and goshsmall from the SYSGEN_SHELL manifest", spec.Shell, spec.Tags, gosh)
	}
	if err := spec.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func writeDesign(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("-----BEGIN CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "osdesign.toml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDesignFileNotChanged makes a spec from a design with locales,
// certificates and settings, and checks the design file, the resolved
// items and the catalog are exactly as before.
func TestDesignFileNotChanged(t *testing.T) {
	p := writeDesign(t, `bsp = "qemu-x86_64"
locales = ["0407", "en-US"]
certificates = ["ca.pem"]
[flags]
SYSGEN_MESSENGER = true
[settings]
"msmsgs.server" = "10.0.2.2:1864"
`)
	d := load(t, Source{File: p})
	before := snapshot(t, d)
	spec, err := d.Spec()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, snapshot(t, d)); diff != "" {
		t.Errorf("Spec changed its inputs (-before +after):\n%s", diff)
	}
	if d.File.Settings["msmsgs.locale"] != nil {
		t.Errorf("design file settings gained msmsgs.locale: %v", d.File.Settings)
	}
	var settings map[string]any
	if err := json.Unmarshal(spec.Settings, &settings); err != nil {
		t.Fatal(err)
	}
	if settings["msmsgs.locale"] != "de-DE" || settings["msmsgs.server"] != "10.0.2.2:1864" {
		t.Errorf("settings = %v, want msmsgs.locale de-DE (first locale) and the design's server", settings)
	}
	var files []string
	for _, f := range spec.Files {
		files = append(files, f.Dst+"="+f.Feature)
	}
	want := []string{"/etc/ssl/certs/device/ca.pem=SYSGEN_CERTS", "/usr/share/msgslang/de-DE.toml=SYSGEN_MESSENGER", "/usr/share/msgslang/en-US.toml=SYSGEN_MESSENGER"}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	// The design's own setting wins over the first locale.
	p2 := writeDesign(t, "locales = [\"0407\"]\n[flags]\nSYSGEN_MESSENGER = true\n[settings]\n\"msmsgs.locale\" = \"ja-JP\"\n")
	settingsOf := func(src Source) map[string]any {
		s, err := load(t, src).Spec()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(s.Settings, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if got := settingsOf(Source{File: p2})["msmsgs.locale"]; got != "ja-JP" {
		t.Errorf("msmsgs.locale = %v, want the design's ja-JP", got)
	}
	// IMGNOLOC=1 keeps only the first locale.
	s, err := load(t, Source{File: p, Env: []string{"IMGNOLOC=1"}}).Spec()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range s.Files {
		if strings.HasPrefix(f.Dst, "/usr/share/msgslang/") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("IMGNOLOC=1: %d locale files, want 1", n)
	}
}

// snapshot deep-copies what Spec must not change.
func snapshot(t *testing.T, d *Design) any {
	t.Helper()
	var items []feature.Item
	for _, it := range d.Catalog.Items {
		items = append(items, *it)
	}
	var sel []string
	for _, s := range d.Result.Items {
		sel = append(sel, s.Item.ID)
	}
	file := *d.File
	b, err := json.Marshal(struct {
		Items []feature.Item
		Sel   []string
		File  resolve.File
	}{items, sel, file})
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDesignErrors(t *testing.T) {
	for _, tc := range []struct {
		name, design, want string
	}{
		{"certificates without the store", "certificates = [\"ca.pem\"]\n[flags]\nSYSGEN_STRSAFE = true\n", "SYSGEN_CERTS (CryptoAPI 2.0 Certificates); set SYSGEN_CERTS=1"},
		{"locales without messenger", "locales = [\"de-DE\"]\n[flags]\nSYSGEN_STRSAFE = true\n", "SYSGEN_MESSENGER (Windows Messenger); set SYSGEN_MESSENGER=1"},
		{"missing certificate", "certificates = [\"nope.pem\"]\n[flags]\nSYSGEN_MESSENGER = true\n", "certificate nope.pem named in"},
		{"unknown locale", "locales = [\"xx-XX\"]\n[flags]\nSYSGEN_MESSENGER = true\n", "xx-XX"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, Source{File: writeDesign(t, tc.design)}).Spec()
			if !errors.Is(err, ErrDesign) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Spec() = %v, want ErrDesign with %q", err, tc.want)
			}
		})
	}
}

func TestPending(t *testing.T) {
	done := &feature.Item{ID: "SYSGEN_DONE", Title: "Done"}
	todo := &feature.Item{ID: "SYSGEN_TODO", Title: "To do", Pending: "no decoder yet"}
	r := &resolve.Result{Items: []*resolve.Selected{{Item: done}, {Item: todo}}}
	got := Pending(r)
	if len(got) != 1 || got[0] != todo {
		t.Fatalf("Pending() = %v, want [SYSGEN_TODO]", got)
	}
	want := "pending: SYSGEN_TODO (To do) is in the design but not yet on the device: no decoder yet"
	if line := PendingLine(todo); line != want {
		t.Errorf("PendingLine() = %q, want %q", line, want)
	}
}

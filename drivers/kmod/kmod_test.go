package kmod

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNormalize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"snd-hda-intel", "snd_hda_intel"},
		{"kernel/sound/pci/hda/snd-hda-intel.ko", "snd_hda_intel"},
		{"virtio_net.ko.xz", "virtio_net"},
		{"e1000.ko.zst", "e1000"},
		{"foo.kobj", "foo.kobj"},
	} {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseModinfo(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want Info
	}{
		{"virtio_net", "license=GPL\x00alias=virtio:d00000001v*\x00depends=virtio_ring,virtio,net_failover\x00name=virtio_net\x00vermagic=6.1.0-56-amd64 SMP\x00",
			Info{Name: "virtio_net", Depends: []string{"virtio_ring", "virtio", "net_failover"}, Aliases: []string{"virtio:d00000001v*"}, Vermagic: "6.1.0-56-amd64 SMP"}},
		{"dashes", "depends=snd-hda-core,snd\x00name=snd_hda_intel\x00", Info{Name: "snd_hda_intel", Depends: []string{"snd_hda_core", "snd"}}},
		{"empty depends", "depends=\x00name=x\x00", Info{Name: "x"}},
		{"softdep", "softdep=pre: crc32c post: foo\x00name=ext4\x00", Info{Name: "ext4", SoftPre: []string{"crc32c"}}},
		{"garbage", "\x00\x00noequals\x00=\x00", Info{}},
		{"bad dependency names", "depends=/,a/b, ,ok-1\x00", Info{Depends: []string{"ok_1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseModinfo([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseModinfo(%q) mismatch (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func TestReadModinfoNotELF(t *testing.T) {
	if _, err := ReadModinfo(bytes.NewReader([]byte("not an elf file at all"))); err == nil {
		t.Errorf("ReadModinfo(text) = nil error, want error")
	}
}

// synthTree builds a small modules dir mirroring the real HDA and virtio
// dependency shapes, with plain, xz and zstd modules.
func synthTree(t *testing.T) string {
	dir := t.TempDir()
	writeModule(t, dir, "kernel/sound/soundcore.ko", "name=soundcore", "depends=")
	writeModule(t, dir, "kernel/sound/core/snd.ko.xz", "name=snd", "depends=soundcore")
	writeModule(t, dir, "kernel/sound/core/snd-pcm.ko.zst", "name=snd_pcm", "depends=snd,snd-timer")
	writeModule(t, dir, "kernel/sound/core/snd-timer.ko", "name=snd_timer", "depends=snd")
	writeModule(t, dir, "kernel/sound/hda/snd-hda-core.ko", "name=snd_hda_core", "depends=snd,snd-pcm")
	writeModule(t, dir, "kernel/sound/pci/hda/snd-hda-codec.ko", "name=snd_hda_codec", "depends=snd-hda-core,snd,snd-pcm")
	writeModule(t, dir, "kernel/leds/trigger/ledtrig-audio.ko", "name=ledtrig_audio", "depends=")
	writeModule(t, dir, "kernel/sound/pci/hda/snd-hda-codec-generic.ko", "name=snd_hda_codec_generic", "depends=snd-hda-codec,snd-hda-core,snd,ledtrig-audio")
	writeModule(t, dir, "kernel/sound/pci/hda/snd-hda-intel.ko", "name=snd_hda_intel", "depends=snd-hda-core,snd-hda-codec,snd,snd-pcm",
		"alias=pci:v00008086d00002668sv*sd*bc*sc*i*", "alias=pci:v*d*sv*sd*bc04sc03i00*")
	writeModule(t, dir, "kernel/drivers/virtio/virtio_pci.ko", "name=virtio_pci", "depends=virtio_ring,virtio", "alias=pci:v00001AF4d*sv*sd*bc*sc*i*")
	writeModule(t, dir, "kernel/drivers/net/virtio_net.ko.xz", "name=virtio_net", "depends=virtio_ring,virtio,net_failover", "alias=virtio:d00000001v*")
	writeModule(t, dir, "kernel/net/core/failover.ko", "name=failover", "depends=")
	writeModule(t, dir, "kernel/drivers/net/net_failover.ko", "name=net_failover", "depends=failover")
	writeModule(t, dir, "kernel/drivers/net/ethernet/intel/e1000/e1000.ko", "name=e1000", "depends=", "alias=pci:v00008086d0000100Esv*sd*bc*sc*i*")
	writeModule(t, dir, "kernel/cyc/a.ko", "name=cyc_a", "depends=cyc_b")
	writeModule(t, dir, "kernel/cyc/b.ko", "name=cyc_b", "depends=cyc_a")
	writeModule(t, dir, "kernel/missing/m.ko", "name=needs_missing", "depends=nowhere")
	if err := os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/drivers/virtio/virtio.ko\nkernel/drivers/virtio/virtio_ring.ko\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modules.builtin.modinfo"),
		[]byte("virtio.license=GPL\x00virtio_ring.license=GPL\x00virtio_mmio.alias=of:N*T*Cvirtio,mmio\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestClosure(t *testing.T) {
	x, err := BuildIndex(synthTree(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		names []string
		want  []string
	}{
		{[]string{"snd_hda_codec_generic", "snd_hda_intel"}, []string{
			"kernel/sound/soundcore.ko", "kernel/sound/core/snd.ko.xz", "kernel/sound/core/snd-timer.ko",
			"kernel/sound/core/snd-pcm.ko.zst", "kernel/sound/hda/snd-hda-core.ko", "kernel/sound/pci/hda/snd-hda-codec.ko",
			"kernel/leds/trigger/ledtrig-audio.ko", "kernel/sound/pci/hda/snd-hda-codec-generic.ko", "kernel/sound/pci/hda/snd-hda-intel.ko"}},
		{[]string{"virtio_pci", "virtio-net"}, []string{
			"kernel/drivers/virtio/virtio_pci.ko", "kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko.xz"}},
		{[]string{"virtio"}, nil},
		{[]string{"e1000", "e1000"}, []string{"kernel/drivers/net/ethernet/intel/e1000/e1000.ko"}},
	} {
		t.Run(strings.Join(tt.names, ","), func(t *testing.T) {
			got, err := x.Files(tt.names...)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Files(%q) mismatch (-want +got):\n%s", tt.names, d)
			}
		})
	}
}

func TestClosureErrors(t *testing.T) {
	x, err := BuildIndex(synthTree(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Closure("cyc_a"); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("Closure(cyc_a) = %v, want cycle error", err)
	}
	if _, err := x.Closure("needs_missing"); !errors.Is(err, ErrUnknownModule) || !strings.Contains(err.Error(), "needs_missing") {
		t.Errorf("Closure(needs_missing) = %v, want ErrUnknownModule naming the chain", err)
	}
	if _, err := x.Closure("nosuch"); !errors.Is(err, ErrUnknownModule) {
		t.Errorf("Closure(nosuch) = %v, want ErrUnknownModule", err)
	}
}

func TestMatch(t *testing.T) {
	x, err := BuildIndex(synthTree(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		alias string
		want  []string
	}{
		{"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", []string{"virtio_pci"}},
		{"pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", []string{"e1000"}},
		{"pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00", []string{"snd_hda_intel"}},
		{"pci:v00008086d0000293Esv00001AF4sd00001100bc04sc03i00", []string{"snd_hda_intel"}},
		{"virtio:d00000001v00001AF4", []string{"virtio_net"}},
		{"virtio:d00000019v00001AF4", nil},
		{"", nil},
	} {
		if got := x.Match(tt.alias); !cmp.Equal(got, tt.want) {
			t.Errorf("Match(%q) = %q, want %q", tt.alias, got, tt.want)
		}
	}
	if !x.MatchBuiltin("of:NvirtioT(null)Cvirtio,mmio") {
		t.Errorf("MatchBuiltin(virtio,mmio) = false, want true")
	}
}

func TestParseProcModules(t *testing.T) {
	in := "snd_hda_intel 57344 0 - Live 0x0000000000000000\nvirtio_net 61440 0 - Live 0x0\n\n"
	got, err := ParseProcModules(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"snd_hda_intel": true, "virtio_net": true}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ParseProcModules mismatch (-want +got):\n%s", d)
	}
}

// realModulesDir finds an unpacked Debian amd64 kernel package's modules
// dir: $MESSENGER_MODULES_DIR, else the sysgen cache
// ($XDG_CACHE_HOME or ~/.cache)/oemkit-sysgen/kernel/linux-image-*amd64*/lib/modules/*.
func realModulesDir(t *testing.T) string {
	if d := os.Getenv("MESSENGER_MODULES_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		if h, err := os.UserHomeDir(); err == nil {
			cache = filepath.Join(h, ".cache")
		}
	}
	if m, _ := filepath.Glob(filepath.Join(cache, "oemkit-sysgen", "kernel", "linux-image-*amd64*", "lib", "modules", "*")); len(m) > 0 {
		return m[0]
	}
	t.Skip("no unpacked Debian kernel: set MESSENGER_MODULES_DIR to .../lib/modules/6.1.0-56-amd64 (apt-get download linux-image-6.1.0-56-amd64; dpkg -x), or run sysgen build once to fill the cache")
	return ""
}

// TestRealDebianKernel checks the closures FINDINGS.md lists against the
// real Debian 6.1 package (amd64).
func TestRealDebianKernel(t *testing.T) {
	dir := realModulesDir(t)
	start := time.Now()
	x, err := BuildIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("indexed %d modules in %v", len(x.Modules), time.Since(start))
	names := func(mods []*Module) []string {
		var s []string
		for _, m := range mods {
			s = append(s, m.Name)
		}
		return s
	}
	if x.Builtin["virtio"] {
		t.Skip("virtio is built in (arm64 kernel): the amd64 closures below do not apply")
	}
	net, err := x.Closure("virtio_pci", "virtio_net")
	if err != nil {
		t.Fatal(err)
	}
	wantNet := []string{"virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_pci", "failover", "net_failover", "virtio_net"}
	if d := cmp.Diff(wantNet, names(net)); d != "" {
		t.Errorf("Closure(virtio_pci, virtio_net) mismatch (-want +got):\n%s", d)
	}
	snd, err := x.Closure("snd_hda_codec_generic", "snd_hda_intel")
	if err != nil {
		t.Fatal(err)
	}
	got := names(snd)
	pos := map[string]int{}
	for i, n := range got {
		pos[n] = i
	}
	for _, n := range []string{"snd_hda_intel", "snd_intel_dspcfg", "snd_intel_sdw_acpi", "snd_hda_codec", "snd_hda_core", "snd_hwdep", "snd_pcm", "snd_timer", "snd", "soundcore", "ledtrig_audio", "snd_hda_codec_generic"} {
		if _, ok := pos[n]; !ok {
			t.Errorf("Closure(snd_hda_codec_generic, snd_hda_intel) = %q, missing %s", got, n)
		}
	}
	if pos["snd_hda_codec_generic"] > pos["snd_hda_intel"] {
		t.Errorf("Closure order = %q, want snd_hda_codec_generic before snd_hda_intel", got)
	}
	for _, tt := range []struct{ alias, want string }{
		{"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00", "virtio_pci"},
		{"pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", "e1000"},
		{"pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00", "snd_hda_intel"},
		{"virtio:d00000001v00001AF4", "virtio_net"},
	} {
		if m := x.Match(tt.alias); !contains(m, tt.want) {
			t.Errorf("Match(%q) = %q, want it to contain %s", tt.alias, m, tt.want)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func FuzzParseModinfo(f *testing.F) {
	f.Add([]byte("alias=virtio:d00000001v*\x00depends=virtio_ring,virtio\x00name=virtio_net\x00"))
	f.Add([]byte("softdep=pre: a b post: c\x00"))
	f.Add([]byte("\x00=\x00depends=,,\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ParseModinfo(b)
		if err != nil {
			return
		}
		for _, d := range in.Depends {
			if d == "" || strings.ContainsAny(d, "-/") {
				t.Errorf("ParseModinfo(%q).Depends has %q, want normalised non-empty names", b, d)
			}
		}
		for name := range ParseBuiltinModinfo(b) {
			if name == "" || strings.ContainsAny(name, "-/") {
				t.Errorf("ParseBuiltinModinfo(%q) has name %q, want normalised non-empty names", b, name)
			}
		}
	})
}

func FuzzReadModinfo(f *testing.F) {
	f.Add(fakeKO(f, "name=x", "depends=y"))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ReadModinfo(bytes.NewReader(b))
	})
}

func FuzzMatchAlias(f *testing.F) {
	f.Add("pci:v00001AF4d*sv*sd*bc*sc*i*", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
	f.Add("virtio:d00000001v*", "virtio:d00000001v00001AF4")
	f.Add("[", "x")
	f.Fuzz(func(t *testing.T, pattern, alias string) {
		if MatchAlias(pattern, alias) && !strings.ContainsAny(pattern, "*?[\\") && pattern != alias {
			t.Errorf("MatchAlias(%q, %q) = true for a literal pattern", pattern, alias)
		}
	})
}

func FuzzParseProcModules(f *testing.F) {
	f.Add("snd_hda_intel 57344 0 - Live 0x0000000000000000\nvirtio_net 61440 0 - Live 0x0\n")
	f.Add("\n\n  \nx")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseProcModules(strings.NewReader(s))
		if err != nil {
			return
		}
		for name := range m {
			if name == "" || strings.Contains(name, "-") {
				t.Errorf("ParseProcModules(%q) has name %q, want normalised non-empty names", s, name)
			}
		}
	})
}

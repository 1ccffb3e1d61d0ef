package modinfo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/drivers/kmod"
)

func TestParseModinfo(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want kmod.Info
	}{
		{"virtio_net", "license=GPL\x00alias=virtio:d00000001v*\x00depends=virtio_ring,virtio,net_failover\x00name=virtio_net\x00vermagic=6.1.0-56-amd64 SMP\x00",
			kmod.Info{Name: "virtio_net", Depends: []string{"virtio_ring", "virtio", "net_failover"}, Aliases: []string{"virtio:d00000001v*"}, Vermagic: "6.1.0-56-amd64 SMP"}},
		{"dashes", "depends=snd-hda-core,snd\x00name=snd_hda_intel\x00", kmod.Info{Name: "snd_hda_intel", Depends: []string{"snd_hda_core", "snd"}}},
		{"empty depends", "depends=\x00name=x\x00", kmod.Info{Name: "x"}},
		{"softdep", "softdep=pre: crc32c post: foo\x00name=ext4\x00", kmod.Info{Name: "ext4", SoftPre: []string{"crc32c"}}},
		{"garbage", "\x00\x00noequals\x00=\x00", kmod.Info{}},
		{"bad dependency names", "depends=/,a/b, ,ok-1\x00", kmod.Info{Depends: []string{"ok_1"}}},
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
	if _, err := x.Closure("needs_missing"); !errors.Is(err, kmod.ErrUnknownModule) || !strings.Contains(err.Error(), "needs_missing") {
		t.Errorf("Closure(needs_missing) = %v, want kmod.ErrUnknownModule naming the chain", err)
	}
	if _, err := x.Closure("nosuch"); !errors.Is(err, kmod.ErrUnknownModule) {
		t.Errorf("Closure(nosuch) = %v, want kmod.ErrUnknownModule", err)
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

// TestIndexFilesRoundTrip writes the index files of a closure read from
// the modules' ELF, reads them back the way the device does
// (kmod.LoadIndex) and checks the device sees the same closure and aliases
// without reading any module.
func TestIndexFilesRoundTrip(t *testing.T) {
	src := synthTree(t)
	x, err := BuildIndex(src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"snd_hda_codec_generic", "snd_hda_intel", "virtio_pci", "virtio_net", "e1000"}
	mods, err := x.Closure(want...)
	if err != nil {
		t.Fatal(err)
	}
	dev := t.TempDir()
	for name, b := range IndexFiles(mods) {
		if err := os.WriteFile(filepath.Join(dev, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"modules.builtin", "modules.builtin.modinfo"} {
		b, _ := os.ReadFile(filepath.Join(src, f))
		os.WriteFile(filepath.Join(dev, f), b, 0o644)
	}
	y, err := kmod.LoadIndex(dev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := y.Closure(want...)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []*kmod.Module) map[string]string {
		out := map[string]string{}
		for _, m := range ms {
			out[m.Name] = m.Path
		}
		return out
	}
	if d := cmp.Diff(names(mods), names(got)); d != "" {
		t.Errorf("closure from modules.dep differs from the ELF one (-elf +dep):\n%s", d)
	}
	// Every module must come after its dependencies.
	pos := map[string]int{}
	for i, m := range got {
		pos[m.Name] = i
	}
	for _, m := range got {
		for _, d := range x.Modules[m.Name].Depends {
			if p, ok := pos[d]; ok && p > pos[m.Name] {
				t.Errorf("device load order puts %s before its dependency %s", m.Name, d)
			}
		}
	}
	for _, alias := range []string{"pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00", "virtio:d00000001v00001AF4", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"} {
		if a, b := x.Match(alias), y.Match(alias); !cmp.Equal(a, b) {
			t.Errorf("Match(%q) from modules.alias = %q, from the ELF = %q", alias, b, a)
		}
	}
	if !y.MatchBuiltin("of:NvirtioT(null)Cvirtio,mmio") {
		t.Errorf("MatchBuiltin(virtio,mmio) from the index files = false")
	}
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
		for name := range kmod.ParseBuiltinModinfo(b) {
			if name == "" || strings.ContainsAny(name, "-/") {
				t.Errorf("kmod.ParseBuiltinModinfo(%q) has name %q, want normalised non-empty names", b, name)
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

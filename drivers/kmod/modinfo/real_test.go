package modinfo_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/drivers/kmod"
	"github.com/oemkit/messenger/drivers/kmod/modinfo"
	"github.com/oemkit/messenger/image/imagetest"
)

// TestRealDebianKernel checks the closures FINDINGS.md lists against the
// real Debian 6.1 package (amd64).
func TestRealDebianKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes every module of the real kernel")
	}
	dir := imagetest.Kernel(t, "qemu-x86_64").ModulesDir()
	start := time.Now()
	x, err := modinfo.BuildIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("indexed %d modules in %v", len(x.Modules), time.Since(start))
	names := func(mods []*kmod.Module) []string {
		var s []string
		for _, m := range mods {
			s = append(s, m.Name)
		}
		return s
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

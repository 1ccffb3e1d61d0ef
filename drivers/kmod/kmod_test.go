package kmod

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/internal/testenv"
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

// devTree writes the index files a built image holds beside its modules.
func devTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const sampleDep = `kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko
kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
kernel/net/core/failover.ko:
kernel/drivers/virtio/virtio_pci.ko:
kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko
kernel/lib/crc16.ko:
kernel/crypto/crc32c_generic.ko:
`

func TestLoadIndex(t *testing.T) {
	dir := devTree(t, map[string]string{
		DepFile:     sampleDep,
		AliasFile:   "# Aliases extracted from modules themselves.\nalias virtio:d00000001v* virtio_net\nalias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci\n",
		SoftdepFile: "softdep ext4 pre: crc32c_generic post: foo\n",
		BuiltinFile: "kernel/drivers/virtio/virtio.ko\n",
	})
	x, err := LoadIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := x.Files("virtio_net", "virtio-pci", "virtio", "ext4")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko", "kernel/drivers/net/virtio_net.ko",
		"kernel/drivers/virtio/virtio_pci.ko", "kernel/crypto/crc32c_generic.ko", "kernel/lib/crc16.ko", "kernel/fs/ext4/ext4.ko"}
	if d := cmp.Diff(want, files); d != "" {
		t.Errorf("Files() from modules.dep mismatch (-want +got):\n%s", d)
	}
	if got := x.Match("virtio:d00000001v00001AF4"); !cmp.Equal(got, []string{"virtio_net"}) {
		t.Errorf("Match(virtio net) = %q, want [virtio_net]", got)
	}
	if _, err := x.Closure("nosuch"); !errors.Is(err, ErrUnknownModule) {
		t.Errorf("Closure(nosuch) = %v, want ErrUnknownModule", err)
	}
}

func TestLoadIndexErrors(t *testing.T) {
	if _, err := LoadIndex(t.TempDir()); !errors.Is(err, ErrNoModulesDep) || !strings.Contains(err.Error(), "sysgen build") {
		t.Errorf("LoadIndex(no modules.dep) = %v, want ErrNoModulesDep saying who writes it", err)
	}
	for name, files := range map[string]map[string]string{
		"escaping path": {DepFile: "../../etc/passwd.ko:\n"},
		"absolute path": {DepFile: "/lib/x.ko:\n"},
		"no colon":      {DepFile: "kernel/x.ko\n"},
		"bad alias":     {DepFile: sampleDep, AliasFile: "alias only-two\n"},
		"bad softdep":   {DepFile: sampleDep, SoftdepFile: "notsoftdep a pre: b\n"},
		"long line":     {DepFile: "kernel/x.ko: " + strings.Repeat("kernel/y.ko ", 10000) + "\n"},
	} {
		if _, err := LoadIndex(devTree(t, files)); err == nil {
			t.Errorf("LoadIndex(%s) = nil error", name)
		}
	}
}

// TestDeviceLoaderCarriesNoParser checks what the device links for module
// loading: package kmod must not pull in the ELF parser, the modinfo
// reader or a decompressor, and neither must the built device init (its
// symbol table, with every feature's build tag).
func TestDeviceLoaderCarriesNoParser(t *testing.T) {
	goBin := testenv.Tool(t, "go", "install Go")
	forbidden := []string{"debug/elf", "github.com/oemkit/messenger/drivers/kmod/modinfo", "github.com/ulikunitz/xz",
		"github.com/klauspost/compress/zstd", "github.com/klauspost/pgzip", "github.com/u-root/u-root/pkg/kmodule"}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	for _, f := range forbidden {
		for _, d := range deps {
			if d == f {
				t.Errorf("drivers/kmod depends on %s", f)
			}
		}
	}
	if testing.Short() {
		return
	}
	// Every sysgen_ build tag in the device init's sources and the drivers.
	tagOut, err := exec.Command("grep", "-rhoE", "sysgen_[a-z0-9_]+", "../../image/deviceinit", "..").Output()
	if err != nil {
		t.Fatalf("grep build tags: %v", err)
	}
	tags := map[string]bool{}
	for _, tg := range strings.Fields(string(tagOut)) {
		tags[tg] = true
	}
	var tagList []string
	for tg := range tags {
		tagList = append(tagList, tg)
	}
	bin := filepath.Join(t.TempDir(), "deviceinit")
	build := exec.Command(goBin, "build", "-trimpath", "-tags", strings.Join(tagList, ","), "-o", bin, "github.com/oemkit/messenger/image/deviceinit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build deviceinit: %v\n%s", err, b)
	}
	mods, err := exec.Command(goBin, "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"github.com/ulikunitz/xz", "github.com/klauspost/compress"} {
		if strings.Contains(string(mods), "\tdep\t"+m+"\t") {
			t.Errorf("go version -m deviceinit lists module %s", m)
		}
	}
	nm, err := exec.Command(goBin, "tool", "nm", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	syms := string(nm)
	if !strings.Contains(syms, "github.com/oemkit/messenger/drivers/kmod.LoadIndex") {
		t.Errorf("device init built with tags %v has no kmod.LoadIndex: is the module loader linked at all?", tagList)
	}
	for _, f := range forbidden {
		if strings.Contains(syms, " "+f+".") {
			t.Errorf("device init's symbol table has %s symbols", f)
		}
	}
}

func FuzzParseModulesDep(f *testing.F) {
	f.Add(sampleDep)
	f.Add("a.ko:\nb.ko.xz: a.ko\n# c\n\n")
	f.Add("../x.ko:")
	f.Fuzz(func(t *testing.T, s string) {
		mods, err := ParseModulesDep(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, m := range mods {
			if !filepath.IsLocal(m.Path) || !IsModuleFile(m.Path) || m.Name != Normalize(m.Path) {
				t.Errorf("ParseModulesDep(%q) gave module %+v", s, m)
			}
		}
	})
}

func FuzzParseModulesAlias(f *testing.F) {
	f.Add("alias virtio:d00000001v* virtio_net\n")
	f.Add("alias a b c\n#x\n")
	f.Fuzz(func(t *testing.T, s string) {
		al, err := ParseModulesAlias(strings.NewReader(s))
		if err != nil {
			return
		}
		for name, as := range al {
			if name == "" || strings.Contains(name, "-") || len(as) == 0 {
				t.Errorf("ParseModulesAlias(%q) gave %q: %q", s, name, as)
			}
		}
	})
}

func FuzzParseModulesSoftdep(f *testing.F) {
	f.Add("softdep ext4 pre: crc32c post: foo\n")
	f.Add("softdep x\nsoftdep y pre:\n")
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := ParseModulesSoftdep(strings.NewReader(s))
		if err != nil {
			return
		}
		for name, pre := range sd {
			for _, p := range append([]string{name}, pre...) {
				if p == "" || strings.ContainsAny(p, "-/") {
					t.Errorf("ParseModulesSoftdep(%q) gave name %q", s, p)
				}
			}
		}
	})
}

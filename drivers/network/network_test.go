package network

import (
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/feature/settings"
)

// fakeDev adds a device with a modalias under devices/ and links it into
// bus/<bus>/devices, like sysfs.
func fakeDev(t *testing.T, root, bus, rel, modalias string) string {
	t.Helper()
	dir := filepath.Join(root, "devices", rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "modalias"), []byte(modalias+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "bus", bus, "devices"), 0o755)
	if err := os.Symlink(dir, filepath.Join(root, "bus", bus, "devices", filepath.Base(rel))); err != nil {
		t.Fatal(err)
	}
	return dir
}

func fakeIface(t *testing.T, root, name, devDir string) {
	t.Helper()
	dir := filepath.Join(root, "class", "net", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if devDir != "" {
		if err := os.Symlink(devDir, filepath.Join(dir, "device")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFind(t *testing.T) {
	type row struct {
		Name    string
		Modules []string
	}
	for _, tt := range []struct {
		name string
		devs [][3]string // bus, name, modalias
		want []row
	}{
		{"qemu x86 virtio-net", [][3]string{
			{"pci", "0000:00:03.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00"},
			{"pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00"},
			{"virtio", "virtio0", "virtio:d00000001v00001AF4"}, // appears after virtio_pci loads
		}, []row{{"0000:00:03.0", []string{"virtio_pci", "virtio_net"}}}},
		{"qemu modern virtio-net", [][3]string{{"pci", "0000:00:02.0", "pci:v00001AF4d00001041sv00001AF4sd00001100bc02sc00i00"}},
			[]row{{"0000:00:02.0", []string{"virtio_pci", "virtio_net"}}}},
		{"e1000", [][3]string{{"pci", "0000:00:03.0", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00"}},
			[]row{{"0000:00:03.0", []string{"e1000"}}}},
		{"unknown ethernet by class", [][3]string{{"pci", "0000:00:03.0", "pci:v000010ECd00008139sv00001AF4sd00001100bc02sc00i00"}},
			[]row{{"0000:00:03.0", nil}}},
		{"arm64 virtio-mmio", [][3]string{
			{"virtio", "virtio0", "virtio:d00000001v554D4551"},
			{"virtio", "virtio1", "virtio:d00000019v554D4551"},
		}, []row{{"virtio0", []string{"virtio_net"}}}},
		{"no nic", [][3]string{{"pci", "0000:00:04.0", "pci:v00008086d00002668sv00001AF4sd00001100bc04sc03i00"}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tt.devs {
				fakeDev(t, root, d[0], d[1], d[2])
			}
			nics, err := Find(root)
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, n := range nics {
				got = append(got, row{n.Name, n.Modules})
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Find mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestInterfacesAndOwner(t *testing.T) {
	root := t.TempDir()
	pci := fakeDev(t, root, "pci", "pci0000:00/0000:00:03.0", "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00")
	vdev := filepath.Join(pci, "virtio0")
	os.MkdirAll(vdev, 0o755)
	e1000 := fakeDev(t, root, "pci", "pci0000:00/0000:00:04.0", "pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00")
	fakeIface(t, root, "lo", "")
	fakeIface(t, root, "eth0", vdev)
	fakeIface(t, root, "eth1", e1000)
	if got, want := Interfaces(root), []string{"eth0", "eth1"}; !cmp.Equal(got, want) {
		t.Errorf("Interfaces = %q, want %q", got, want)
	}
	nics, err := Find(root)
	if err != nil {
		t.Fatal(err)
	}
	if n := nicFor(nics, "eth0", root); n.Name != "0000:00:03.0" {
		t.Errorf("nicFor(eth0) = %q, want 0000:00:03.0", n.Name)
	}
	if n := nicFor(nics, "eth1", root); n.Name != "0000:00:04.0" {
		t.Errorf("nicFor(eth1) = %q, want 0000:00:04.0", n.Name)
	}
	if n := nicFor(nics, "lo", root); n.Name != "" {
		t.Errorf("nicFor(lo) = %q, want none", n.Name)
	}
}

type fakeModules map[string][]string

func (f fakeModules) Load(params map[string]string, names ...string) ([]string, error) {
	return names, nil
}
func (f fakeModules) Match(alias string) []string { return f[alias] }

func TestModulesFor(t *testing.T) {
	m := fakeModules{"pci:v000010ECd00008139": {"8139too"}}
	if got, err := modulesFor(NIC{Modules: []string{"e1000"}}, m); err != nil || !cmp.Equal(got, []string{"e1000"}) {
		t.Errorf("modulesFor(e1000) = %q, %v, want [e1000]", got, err)
	}
	n := NIC{}
	n.Modalias = "pci:v000010ECd00008139"
	if got, err := modulesFor(n, m); err != nil || !cmp.Equal(got, []string{"8139too"}) {
		t.Errorf("modulesFor(rtl8139) = %q, %v, want [8139too]", got, err)
	}
	n.Modalias = "pci:v0000FFFFd0000FFFF"
	if _, err := modulesFor(n, m); err == nil || !strings.Contains(err.Error(), "BSP") {
		t.Errorf("modulesFor(unknown) = %v, want an error saying how to fix it", err)
	}
}

func TestInitSkipped(t *testing.T) {
	d := &Driver{SysRoot: t.TempDir(), Modules: func() (Modules, error) {
		t.Errorf("module index opened without a NIC")
		return fakeModules{}, nil
	}}
	if ok, err := d.Init(); ok || !errors.Is(err, ErrNoHardware) {
		t.Errorf("Init() = %v, %v, want false, ErrNoHardware", ok, err)
	}
}

func TestResolvConf(t *testing.T) {
	got := string(ResolvConf([]netip.Addr{netip.MustParseAddr("10.0.2.3"), netip.MustParseAddr("fec0::3")}, []string{"lab.example", "example"}, "lab.example"))
	want := "# written by the network driver from the DHCP lease\ndomain lab.example\nnameserver 10.0.2.3\nnameserver fec0::3\nsearch lab.example example\n"
	if got != want {
		t.Errorf("ResolvConf = %q, want %q", got, want)
	}
}

// tcpipDefaults is the settings file the image carries for the defaults
// SYSGEN_TCPIP declares in its manifest.
func tcpipDefaults(t *testing.T) map[string]any {
	t.Helper()
	it, err := feature.LoadFile(filepath.Join("..", "..", "feature", "tcpip", feature.ManifestName))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	for k, s := range it.Settings {
		m[k] = s.Default
	}
	return m
}

func settingsFile(t *testing.T, m map[string]any) *settings.File {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := settings.Parse("settings.json", b)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSysctlsFromSettings(t *testing.T) {
	m := tcpipDefaults(t)
	got, err := Sysctls(settingsFile(t, m))
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]int{}
	for _, s := range got {
		n, err := strconv.Atoi(s.Value)
		if err != nil {
			t.Fatalf("%s = %q, not a number", s.Key, s.Value)
		}
		v[s.Key] = n
	}
	if len(v) != 4 {
		t.Errorf("Sysctls(defaults) = %v, want the 4 TCP sysctls", got)
	}
	// The documented half-open bound follows from the manifest's defaults.
	if got := v["net/ipv4/tcp_keepalive_time"] + v["net/ipv4/tcp_keepalive_probes"]*v["net/ipv4/tcp_keepalive_intvl"]; got != 120 {
		t.Errorf("keepalive detection bound = %d s, want the documented 120 s", got)
	}
	if v["net/ipv4/tcp_retries2"] != 8 {
		t.Errorf("tcp_retries2 = %d, want the documented 8", v["net/ipv4/tcp_retries2"])
	}

	// An OEM override reaches the kernel value.
	m[SettingKeepaliveTime] = "2m"
	got, err = Sysctls(settingsFile(t, m))
	if err != nil || got[0] != (Sysctl{"net/ipv4/tcp_keepalive_time", "120"}) {
		t.Errorf("Sysctls(time=2m) = %v, %v, want tcp_keepalive_time 120", got, err)
	}
	// A key the file lacks leaves the kernel's value.
	delete(m, SettingRetries2)
	got, err = Sysctls(settingsFile(t, m))
	if err != nil || len(got) != 3 {
		t.Errorf("Sysctls(without retries2) = %v, %v, want 3 sysctls", got, err)
	}
	for _, tc := range []struct {
		key  string
		val  any
		want string
	}{
		{SettingKeepaliveTime, "1500ms", "whole seconds"},
		{SettingKeepaliveTime, 60, "want a duration"},
		{SettingKeepaliveProbes, "6", "want an int"},
		{SettingKeepaliveProbes, 0, "want 1 to 127"},
	} {
		bad := tcpipDefaults(t)
		bad[tc.key] = tc.val
		if _, err := Sysctls(settingsFile(t, bad)); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("Sysctls(%s=%v) = %v, want an error naming the key and %q", tc.key, tc.val, err, tc.want)
		}
	}
}

func TestSetSysctls(t *testing.T) {
	proc := t.TempDir()
	os.MkdirAll(filepath.Join(proc, "sys", "net", "ipv4"), 0o755)
	sysctls, err := Sysctls(settingsFile(t, tcpipDefaults(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := SetSysctls(proc, sysctls); err != nil {
		t.Fatal(err)
	}
	for _, s := range sysctls {
		b, err := os.ReadFile(filepath.Join(proc, "sys", s.Key))
		if err != nil || strings.TrimSpace(string(b)) != s.Value {
			t.Errorf("%s = %q, %v, want %s", s.Key, b, err, s.Value)
		}
	}
	if err := SetSysctls(filepath.Join(t.TempDir(), "nope"), sysctls); err == nil {
		t.Errorf("SetSysctls(missing /proc) = nil, want error")
	}
	// The driver reads them through its settings source.
	d := &Driver{Settings: func() (*settings.File, error) { return settingsFile(t, tcpipDefaults(t)), nil }}
	if got, err := d.sysctls(); err != nil || len(got) != 4 {
		t.Errorf("Driver.sysctls() = %v, %v, want 4", got, err)
	}
	d.Settings = func() (*settings.File, error) { return settings.Load(filepath.Join(t.TempDir(), "none.json")) }
	if got, err := d.sysctls(); err != nil || len(got) != 0 {
		t.Errorf("Driver.sysctls() without a settings file = %v, %v, want none and no error", got, err)
	}
}

func TestBindingString(t *testing.T) {
	b := Binding{Interface: "eth0", MAC: "52:54:00:12:34:56", Address: netip.MustParsePrefix("10.0.2.15/24"),
		Gateway: netip.MustParseAddr("10.0.2.2"), DNS: []netip.Addr{netip.MustParseAddr("10.0.2.3")}, Loaded: []string{"virtio_net"}}
	b.NIC.Bus, b.NIC.Name, b.NIC.Vendor, b.NIC.Device.Device = "pci", "0000:00:03.0", 0x1af4, 0x1000
	want := "network: eth0 up mac 52:54:00:12:34:56 addr 10.0.2.15/24 gw 10.0.2.2 dns [10.0.2.3] (pci 0000:00:03.0 1af4:1000, modules [virtio_net])"
	if got := b.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// loadHook is a Modules whose Load runs a function, like the kernel
// creating devices when a module binds.
type loadHook struct {
	loads [][]string
	hook  func(names []string)
}

func (l *loadHook) Load(params map[string]string, names ...string) ([]string, error) {
	l.loads = append(l.loads, names)
	l.hook(names)
	return names, nil
}
func (l *loadHook) Match(string) []string { return nil }

func TestFindLoadsVirtioMMIO(t *testing.T) {
	root := t.TempDir()
	fakeDev(t, root, "platform", "a000000.virtio_mmio", "of:NvirtioT(null)Cvirtio,mmio")
	m := &loadHook{hook: func(names []string) {
		if names[0] == "virtio_mmio" {
			fakeDev(t, root, "virtio", "virtio0", "virtio:d00000001v554D4551")
		}
	}}
	d := &Driver{SysRoot: root}
	nics, did, err := d.find(func() (Modules, error) { return m, nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(nics) != 1 || nics[0].Name != "virtio0" || !cmp.Equal(nics[0].Modules, []string{"virtio_net"}) {
		t.Errorf("find = %+v, want virtio0 with virtio_net", nics)
	}
	if !cmp.Equal(did, []string{"virtio_mmio"}) {
		t.Errorf("find loaded %q, want [virtio_mmio]", did)
	}
}

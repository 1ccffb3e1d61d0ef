package resolve

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/feature/settings"
)

// bsp returns a board item with the given hardware kinds (as kind:bus).
func bsp(name string, hw ...string) *feature.Item {
	b := &feature.BSP{Name: name, Arch: "amd64"}
	for _, h := range hw {
		kind, bus, _ := strings.Cut(h, ":")
		b.Hardware = append(b.Hardware, feature.Hardware{Kind: kind, Bus: bus})
	}
	return &feature.Item{ID: "BSP_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")), Title: name, Kind: feature.KindBSP, BSP: b}
}

func item(id string, mod func(*feature.Item)) *feature.Item {
	it := &feature.Item{ID: id, Title: id, Kind: feature.KindFeature}
	if mod != nil {
		mod(it)
	}
	return it
}

func catalog(t testing.TB, items ...*feature.Item) *feature.Catalog {
	t.Helper()
	c, err := feature.New(items)
	if err != nil {
		t.Fatalf("feature.New: %v", err)
	}
	return c
}

func TestResolve(t *testing.T) {
	board := bsp("b", "nic:pci", "audio:pci")
	mute := bsp("mute", "nic:pci")
	base := []*feature.Item{
		board, mute,
		item("SYSGEN_APP", func(i *feature.Item) { i.Requires = []string{"SYSGEN_LIB", "SYSGEN_NET"} }),
		item("SYSGEN_LIB", func(i *feature.Item) { i.Requires = []string{"SYSGEN_NET"} }),
		item("SYSGEN_NET", func(i *feature.Item) { i.Needs = []string{"network"} }),
		item("SYSGEN_NIC", func(i *feature.Item) {
			i.Kind = feature.KindDriver
			i.Provides = []string{"network"}
			i.Hardware = []string{"nic"}
		}),
		item("SYSGEN_VOICE", func(i *feature.Item) { i.Needs = []string{"audio"} }),
		item("SYSGEN_HDA", func(i *feature.Item) { i.Provides = []string{"audio"}; i.Hardware = []string{"audio:pci"} }),
		item("SYSGEN_I2S", func(i *feature.Item) { i.Provides = []string{"audio"}; i.Hardware = []string{"audio:i2c"} }),
		item("SYSGEN_OLD", func(i *feature.Item) { i.Conflicts = []string{"SYSGEN_APP"} }),
		item("SYSGEN_CYA", func(i *feature.Item) { i.Requires = []string{"SYSGEN_CYB"} }),
		item("SYSGEN_CYB", func(i *feature.Item) { i.Requires = []string{"SYSGEN_CYC"} }),
		item("SYSGEN_CYC", func(i *feature.Item) { i.Requires = []string{"SYSGEN_CYA"} }),
		item("SYSGEN_LATE", func(i *feature.Item) { i.After = []string{"SYSGEN_VOICE"} }),
		item("SYSGEN_NEEDS_NOTHING_PROVIDES", func(i *feature.Item) { i.Needs = []string{"gps"} }),
		item("SYSGEN_WANTS_I2C", func(i *feature.Item) { i.Hardware = []string{"i2c"} }),
	}
	cat := catalog(t, base...)
	tests := []struct {
		name      string
		d         Design
		wantOrder []string
		wantErr   error
		errHas    []string
	}{
		{
			name:      "closure in build order",
			d:         Design{BSP: "b", Set: []string{"SYSGEN_APP"}},
			wantOrder: []string{"BSP_B", "SYSGEN_NIC", "SYSGEN_NET", "SYSGEN_LIB", "SYSGEN_APP"},
		},
		{
			name:      "capability chosen by board hardware",
			d:         Design{BSP: "b", Set: []string{"SYSGEN_VOICE", "SYSGEN_LATE"}},
			wantOrder: []string{"BSP_B", "SYSGEN_HDA", "SYSGEN_VOICE", "SYSGEN_LATE"},
		},
		{
			name:    "audio needed on a board without audio",
			d:       Design{BSP: "mute", Set: []string{"SYSGEN_VOICE"}},
			wantErr: ErrUnprovided,
			errHas:  []string{`SYSGEN_VOICE needs "audio"`, "BSP mute", "SYSGEN_HDA (needs hardware audio:pci)", "board hardware: nic:pci"},
		},
		{
			name:    "nobody provides",
			d:       Design{BSP: "b", Set: []string{"SYSGEN_NEEDS_NOTHING_PROVIDES"}},
			wantErr: ErrUnprovided,
			errHas:  []string{`provides = ["gps"]`},
		},
		{
			name:    "unknown flag suggests",
			d:       Design{BSP: "b", Set: []string{"SYSGEN_APPP"}},
			wantErr: ErrUnknownItem,
			errHas:  []string{"did you mean SYSGEN_APP?"},
		},
		{
			name:    "unknown bsp",
			d:       Design{BSP: "bb", Set: []string{"SYSGEN_APP"}},
			wantErr: ErrBSP,
			errHas:  []string{`no BSP named "bb"`, "available: b, mute"},
		},
		{
			name:    "cycle printed",
			d:       Design{BSP: "b", Set: []string{"SYSGEN_CYA"}},
			wantErr: ErrCycle,
			errHas:  []string{"SYSGEN_CYA -> SYSGEN_CYB -> SYSGEN_CYC -> SYSGEN_CYA"},
		},
		{
			name:    "conflict shows both chains",
			d:       Design{BSP: "b", Set: []string{"SYSGEN_APP", "SYSGEN_OLD"}},
			wantErr: ErrConflict,
			errHas:  []string{"SYSGEN_OLD conflicts with SYSGEN_APP", "why SYSGEN_APP: SYSGEN_APP"},
		},
		{
			name:    "cleared but required",
			d:       Design{BSP: "b", Set: []string{"SYSGEN_APP"}, Cleared: []string{"SYSGEN_LIB"}},
			wantErr: ErrCleared,
			errHas:  []string{"SYSGEN_LIB is cleared", "SYSGEN_APP -> SYSGEN_LIB"},
		},
		{
			name:    "hardware missing",
			d:       Design{BSP: "b", Set: []string{"SYSGEN_WANTS_I2C"}},
			wantErr: ErrHardware,
			errHas:  []string{`needs hardware "i2c"`},
		},
		{
			name:    "bsp as flag",
			d:       Design{BSP: "b", Set: []string{"BSP_MUTE"}},
			wantErr: ErrBSP,
			errHas:  []string{"--bsp mute"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(cat, tt.d)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Resolve() = %v, want %v", err, tt.wantErr)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("Resolve() error = %q, want it to contain %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve() = %v", err)
			}
			if diff := cmp.Diff(tt.wantOrder, r.IDs()); diff != "" {
				t.Errorf("Resolve() order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWhyChains(t *testing.T) {
	cat := catalog(t, bsp("b", "nic:pci"),
		item("SYSGEN_A", func(i *feature.Item) { i.Requires = []string{"SYSGEN_C"} }),
		item("SYSGEN_B", func(i *feature.Item) { i.Requires = []string{"SYSGEN_C"} }),
		item("SYSGEN_C", nil))
	r, err := Resolve(cat, Design{BSP: "b", Set: []string{"SYSGEN_A", "SYSGEN_B"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Lookup("SYSGEN_C")
	want := [][]string{{"SYSGEN_A", "SYSGEN_C"}, {"SYSGEN_B", "SYSGEN_C"}}
	if diff := cmp.Diff(want, c.Why()); diff != "" {
		t.Errorf("Why(SYSGEN_C) (-want +got):\n%s", diff)
	}
	a, _ := r.Lookup("SYSGEN_A")
	if diff := cmp.Diff([][]string{{"SYSGEN_A"}}, a.Why()); diff != "" {
		t.Errorf("Why(SYSGEN_A) (-want +got):\n%s", diff)
	}
}

func TestMessengerDesign(t *testing.T) {
	cat, err := feature.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(cat, Design{BSP: DefaultBSP, Set: []string{"SYSGEN_MESSENGER"}})
	if err != nil {
		t.Fatal(err)
	}
	// The CE 5.0 documentation's dependency list for Windows Messenger.
	deps := map[string]string{
		"SYSGEN_RTC":                "RTC Client API",
		"SYSGEN_AUTH_KERBEROS":      "Kerberos Authentication",
		"SYSGEN_CERTS":              "CryptoAPI 2.0 Certificates",
		"SYSGEN_IMAGING_GIF_DECODE": "GIF Decoder",
		"SYSGEN_IMAGING_PNG_DECODE": "PNG Decoder",
		"SYSGEN_SHDOCVW":            "Internet Explorer Browser Control Host",
		"SYSGEN_STDIOA":             "Standard I/O ASCII",
		"SYSGEN_STRSAFE":            "String Safe Utility Functions",
		"SYSGEN_WININET":            "Windows Internet Services",
		"SYSGEN_AUTH_PASSPORT":      "Passport SSI 1.4 Authentication",
	}
	for id, title := range deps {
		s, ok := r.Lookup(id)
		if !ok {
			t.Errorf("%s not in the Messenger design", id)
			continue
		}
		if s.Item.Title != title {
			t.Errorf("%s title = %q, want %q", id, s.Item.Title, title)
		}
		found := false
		for _, c := range s.Why() {
			if c[0] == "SYSGEN_MESSENGER" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no chain starts at SYSGEN_MESSENGER: %v", id, s.Why())
		}
	}
	// Same input, same order.
	r2, _ := Resolve(cat, Design{BSP: DefaultBSP, Set: []string{"SYSGEN_MESSENGER"}})
	if diff := cmp.Diff(r.IDs(), r2.IDs()); diff != "" {
		t.Errorf("order not deterministic:\n%s", diff)
	}
	// The Messenger design on a board without audio fails at resolve time.
	var items []*feature.Item
	items = append(items, cat.Items...)
	items = append(items, bsp("no-audio", "nic:pci", "console:platform"))
	cat2 := catalog(t, items...)
	_, err = Resolve(cat2, Design{BSP: "no-audio", Set: []string{"SYSGEN_MESSENGER"}})
	if !errors.Is(err, ErrUnprovided) || !strings.Contains(err.Error(), `SYSGEN_RTC needs "audio"`) {
		t.Errorf("Messenger on a board without audio: Resolve() = %v, want ErrUnprovided naming SYSGEN_RTC", err)
	}
}

func TestFlagsFromEnv(t *testing.T) {
	fl, err := FlagsFromEnv([]string{"PATH=/bin", "SYSGEN_MESSENGER=1", "SYSGEN_SHELL=", "HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"SYSGEN_MESSENGER"}, fl.Set); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff([]string{"SYSGEN_SHELL"}, fl.Cleared); diff != "" {
		t.Error(diff)
	}
	for _, bad := range []string{"SYSGEN_MESSENGER=yes", "SYSGEN_MESSENGER=0", "SYSGEN_MESSENGER=true", "SYSGEN_MESSENGER= 1"} {
		_, err := FlagsFromEnv([]string{bad})
		if !errors.Is(err, ErrFlagValue) || !strings.Contains(err.Error(), "use SYSGEN_MESSENGER=1") {
			t.Errorf("FlagsFromEnv(%q) = %v, want ErrFlagValue with a fix", bad, err)
		}
	}
}

func TestCombine(t *testing.T) {
	f := &File{Path: "osdesign.toml", BSP: "qemu-aarch64", Flags: map[string]bool{"SYSGEN_MESSENGER": true, "SYSGEN_SHELL": true}}
	d, fl := Combine(f, Flags{Cleared: []string{"SYSGEN_SHELL"}}, "")
	if d.BSP != "qemu-aarch64" || !cmp.Equal(d.Set, []string{"SYSGEN_MESSENGER"}) || !cmp.Equal(d.Cleared, []string{"SYSGEN_SHELL"}) {
		t.Errorf("Combine() = %+v", d)
	}
	if fl.Source["SYSGEN_SHELL"] != "environment" || fl.Source["SYSGEN_MESSENGER"] != "osdesign.toml" {
		t.Errorf("Combine() sources = %v", fl.Source)
	}
	if d, _ := Combine(f, Flags{}, "qemu-x86_64"); d.BSP != "qemu-x86_64" {
		t.Errorf("--bsp did not win: %q", d.BSP)
	}
}

func TestMergeSettings(t *testing.T) {
	b := bsp("b")
	b.Settings = map[string]feature.Setting{"a.x": {Default: "bsp"}}
	decl := func(typ settings.Type, def any) feature.Setting {
		return feature.Setting{Type: typ, Default: def, Meaning: "m"}
	}
	cat := catalog(t, b,
		item("SYSGEN_A", func(i *feature.Item) {
			i.Settings = map[string]feature.Setting{"a.x": decl(settings.String, "feature"), "a.y": decl(settings.Int, int64(1)),
				"a.wait": decl(settings.Duration, "5s"), "a.unset": decl(settings.String, nil)}
		}),
		item("SYSGEN_B", func(i *feature.Item) { i.Settings = map[string]feature.Setting{"b.z": decl(settings.Int, int64(2))} }))
	r, err := Resolve(cat, Design{BSP: "b", Set: []string{"SYSGEN_A"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := MergeSettings(r, &File{Path: "osdesign.toml", Settings: map[string]any{"a.y": int64(5)}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{
		{Key: "a.wait", Value: "5s", Type: settings.Duration, Owner: "SYSGEN_A", Source: "SYSGEN_A"},
		{Key: "a.x", Value: "bsp", Type: settings.String, Owner: "SYSGEN_A", Source: "BSP_B", Overrides: []string{"SYSGEN_A"}},
		{Key: "a.y", Value: int64(5), Type: settings.Int, Owner: "SYSGEN_A", Source: "osdesign.toml", Overrides: []string{"SYSGEN_A"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("MergeSettings (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		design string
		want   []string
	}{
		{"[settings]\n\"a.wiat\" = \"1s\"\n", []string{"osdesign.toml:2", `bad setting: unknown key "a.wiat"`, "did you mean a.wait?"}},
		{"[settings]\n\"b.z\" = 3\n", []string{`"b.z" belongs to SYSGEN_B`, "SYSGEN_B=1"}},
		{"[settings]\n\"a.wait\" = 5\n", []string{"osdesign.toml:2", "a duration", `"60s"`}},
		{"[settings]\n\"a.y\" = \"5\"\n", []string{"want an int"}},
		{"\n[settings]\n\"zz.qq\" = 1\n", []string{"osdesign.toml:3", `unknown key "zz.qq"`, "sysgen settings --all"}},
	} {
		f, err := ParseFile("osdesign.toml", []byte(tc.design))
		if err != nil {
			t.Fatalf("ParseFile(%q): %v", tc.design, err)
		}
		_, err = MergeSettings(r, f)
		if !errors.Is(err, ErrSetting) {
			t.Errorf("MergeSettings(%q) = %v, want ErrSetting", tc.design, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("MergeSettings(%q) = %q, want it to contain %q", tc.design, err, w)
			}
		}
	}
	// One item owns each setting.
	_, err = feature.New([]*feature.Item{b,
		item("SYSGEN_A", func(i *feature.Item) { i.Settings = map[string]feature.Setting{"a.x": decl(settings.String, "1")} }),
		item("SYSGEN_B", func(i *feature.Item) { i.Settings = map[string]feature.Setting{"a.x": decl(settings.String, "2")} })})
	if err == nil || !strings.Contains(err.Error(), "SYSGEN_A") || !strings.Contains(err.Error(), "SYSGEN_B") {
		t.Errorf("two items declaring a.x: feature.New = %v, want an error naming both", err)
	}
}

func TestParseDesignFile(t *testing.T) {
	f, err := ParseFile("osdesign.toml", []byte("bsp = \"qemu-x86_64\"\nlocales = [\"de-DE\"]\n[flags]\nSYSGEN_MESSENGER = true\n[settings]\n\"msmsgs.server\" = \"10.0.2.2:1863\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Flags["SYSGEN_MESSENGER"] || f.Settings["msmsgs.server"] != "10.0.2.2:1863" {
		t.Errorf("ParseFile = %+v", f)
	}
	for _, bad := range []string{"bps = \"x\"\n", "[flags]\nMESSENGER = true\n", "[flags]\nSYSGEN_X = 1\n"} {
		if _, err := ParseFile("osdesign.toml", []byte(bad)); err == nil {
			t.Errorf("ParseFile(%q) = nil error", bad)
		}
	}
}

// genCatalog makes n items with random acyclic dependencies (each item
// requires up to 3 items with a lower index) plus one root that needs the
// top ten.
func genCatalog(tb testing.TB, n int, seed uint64) *feature.Catalog {
	rng := rand.New(rand.NewPCG(seed, 1))
	items := make([]*feature.Item, 0, n+1)
	items = append(items, bsp("gen", "nic:pci"))
	for i := 0; i < n; i++ {
		it := &feature.Item{ID: fmt.Sprintf("SYSGEN_G%07d", i), Title: "g", Kind: feature.KindFeature}
		if i > 0 {
			for k := rng.IntN(4); k > 0; k-- {
				dep := fmt.Sprintf("SYSGEN_G%07d", rng.IntN(i))
				if !contains(it.Requires, dep) {
					it.Requires = append(it.Requires, dep)
				}
			}
		}
		items = append(items, it)
	}
	c, err := feature.New(items)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func BenchmarkResolveMessenger(b *testing.B) {
	cat, err := feature.Load("../..")
	if err != nil {
		b.Fatal(err)
	}
	d := Design{BSP: DefaultBSP, Set: []string{"SYSGEN_MESSENGER"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Resolve(cat, d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolveGenerated(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			cat := genCatalog(b, n, 42)
			var roots []string
			for i := n - 10; i < n; i++ {
				roots = append(roots, fmt.Sprintf("SYSGEN_G%07d", i))
			}
			// Select every item so the whole catalog is resolved.
			all := cat.IDs()
			d := Design{BSP: "gen", Set: all[1:]}
			_ = roots
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				r, err := Resolve(cat, d)
				if err != nil {
					b.Fatal(err)
				}
				if len(r.Items) != n+1 {
					b.Fatalf("resolved %d items, want %d", len(r.Items), n+1)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// chainCatalog is n items in one chain: SYSGEN_C0 requires SYSGEN_C1, which
// requires SYSGEN_C2, and so on; every fifth item also needs a capability
// that the next one provides.
func chainCatalog(tb testing.TB, n int) *feature.Catalog {
	items := []*feature.Item{bsp("gen", "nic:pci")}
	for i := 0; i < n; i++ {
		it := &feature.Item{ID: fmt.Sprintf("SYSGEN_C%d", i), Title: "c", Kind: feature.KindFeature}
		if i+1 < n {
			it.Requires = []string{fmt.Sprintf("SYSGEN_C%d", i+1)}
			if i%5 == 0 {
				it.Needs = []string{fmt.Sprintf("cap%d", i)}
			}
		}
		if i%5 == 1 {
			it.Provides = []string{fmt.Sprintf("cap%d", i-1)}
		}
		items = append(items, it)
	}
	c, err := feature.New(items)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// resolveAndList resolves the chain catalog and builds every item's why
// chains as `sysgen resolve` does; it returns the number of ids listed.
func resolveAndList(tb testing.TB, cat *feature.Catalog) int {
	r, err := Resolve(cat, Design{BSP: "gen", Set: []string{"SYSGEN_C0"}})
	if err != nil {
		tb.Fatal(err)
	}
	ids := 0
	for _, s := range r.Items {
		for _, c := range s.Why() {
			ids += len(c)
		}
	}
	return ids
}

// TestChainCatalogLinear resolves a 10,000-item chain and lists every
// item's chains: the chains are cut (first id, "(N more)", the last ids),
// and time and memory grow linearly (doubling the catalog at most
// triples the memory), within fixed bounds.
func TestChainCatalogLinear(t *testing.T) {
	const n = 10_000
	cat := chainCatalog(t, n)
	r, err := Resolve(cat, Design{BSP: "gen", Set: []string{"SYSGEN_C0"}})
	if err != nil {
		t.Fatal(err)
	}
	last, _ := r.Lookup(fmt.Sprintf("SYSGEN_C%d", n-1))
	why := last.Why()
	if len(why) != 1 || len(why[0]) != MaxChainLen || why[0][0] != "SYSGEN_C0" || why[0][1] != fmt.Sprintf("(%d more)", n-MaxChainLen+1) || why[0][MaxChainLen-1] != last.Item.ID {
		t.Errorf("Why(last) = %v, want [SYSGEN_C0 (%d more) ... %s] of %d ids", why, n-MaxChainLen+1, last.Item.ID, MaxChainLen)
	}
	full := last.Chains(0, 0)
	if len(full) != 1 || len(full[0]) != n || full[0][0] != "SYSGEN_C0" || full[0][n-1] != last.Item.ID {
		t.Errorf("Chains(0, 0) of the last item: %d chains, first of %d ids; want one chain of %d", len(full), len(full[0]), n)
	}
	// The provider of cap0 (SYSGEN_C1) has two reasons: C0 requires it and
	// needs what it provides.
	if p, _ := r.Lookup("SYSGEN_C1"); p.Reasons() != 2 {
		t.Errorf("SYSGEN_C1 Reasons() = %d, want 2", p.Reasons())
	}
	for i, id := range r.IDs()[1:] { // after BSP_GEN, which needs nothing
		if want := fmt.Sprintf("SYSGEN_C%d", n-1-i); id != want {
			t.Fatalf("build order[%d] = %s, want %s (dependencies first)", i+1, id, want)
		}
	}

	var ids int
	took, alloc := measure(func() { ids = resolveAndList(t, cat) })
	double := chainCatalog(t, 2*n)
	took2, alloc2 := measure(func() { resolveAndList(t, double) })
	t.Logf("%d items: %v, %d KB, %d ids listed; %d items: %v, %d KB", n, took, alloc>>10, ids, 2*n, took2, alloc2>>10)
	// At most two reasons per item here (a provider is required and needed).
	if ids > 2*(n+1)*MaxChainLen {
		t.Errorf("listed %d ids for %d items, want at most %d", ids, n, 2*(n+1)*MaxChainLen)
	}
	if alloc > 64<<20 || took > 5*time.Second {
		t.Errorf("resolving and listing %d items took %v and %d MB, want under 5s and 64 MB", n, took, alloc>>20)
	}
	if alloc2 > 3*alloc {
		t.Errorf("memory grew %.1fx for twice the items (%d KB -> %d KB), want linear", float64(alloc2)/float64(alloc), alloc>>10, alloc2>>10)
	}
}

// BenchmarkResolveChain resolves a single-chain catalog and builds every
// item's why chains, as `sysgen resolve` does:
//
//	go test ./sysgen/resolve -run XXX -bench ResolveChain -benchmem
func BenchmarkResolveChain(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			cat := chainCatalog(b, n)
			b.ReportAllocs()
			for b.Loop() {
				resolveAndList(b, cat)
			}
		})
	}
}

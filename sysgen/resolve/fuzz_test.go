package resolve

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/oemkit/messenger/feature"
)

// FuzzResolve builds a random catalog from the input bytes (dependencies,
// ordering, conflicts, capabilities, hardware, cycles allowed) and resolves
// a random design: it must never panic or hang, and a success must be a
// consistent closure in dependency order.
func FuzzResolve(f *testing.F) {
	f.Add([]byte{3, 1, 2, 0, 1, 5, 7, 9})
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, 255, 3, 9, 1, 1, 1})
	f.Add([]byte("a cyclic catalog of letters"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		n := int(data[0]%24) + 1
		data = data[1:]
		next := func() int {
			if len(data) == 0 {
				return 0
			}
			v := int(data[0])
			data = data[1:]
			return v
		}
		id := func(i int) string { return fmt.Sprintf("SYSGEN_F%d", i%n) }
		caps := []string{"audio", "network", "gps"}
		board := &feature.Item{ID: "BSP_F", Title: "f", Kind: feature.KindBSP,
			BSP: &feature.BSP{Name: "f", Arch: "amd64", Hardware: []feature.Hardware{{Kind: "nic", Bus: "pci"}}}}
		items := []*feature.Item{board}
		for i := 0; i < n; i++ {
			it := &feature.Item{ID: id(i), Title: "t", Kind: feature.KindFeature}
			flags := next()
			for k := 0; k < flags%4; k++ {
				if d := id(next()); d != it.ID {
					it.Requires = append(it.Requires, d)
				}
			}
			if flags&16 != 0 {
				if d := id(next()); d != it.ID {
					it.After = append(it.After, d)
				}
			}
			if flags&32 != 0 {
				if d := id(next()); d != it.ID {
					it.Conflicts = append(it.Conflicts, d)
				}
			}
			if flags&64 != 0 {
				it.Needs = append(it.Needs, caps[next()%len(caps)])
			}
			if flags&128 != 0 {
				it.Provides = append(it.Provides, caps[next()%len(caps)])
				if next()%2 == 0 {
					it.Hardware = []string{"nic"}
				} else {
					it.Hardware = []string{"audio"}
				}
			}
			items = append(items, it)
		}
		cat, err := feature.New(items)
		if err != nil {
			return
		}
		d := Design{BSP: "f"}
		for k := next() % 4; k >= 0; k-- {
			d.Set = append(d.Set, id(next()))
		}
		if next()%3 == 0 {
			d.Cleared = append(d.Cleared, id(next()))
		}
		r, err := Resolve(cat, d)
		if err != nil {
			return
		}
		pos := map[string]int{}
		for i, s := range r.Items {
			pos[s.Item.ID] = i
			if len(s.Why()) == 0 {
				t.Fatalf("%s has no chain", s.Item.ID)
			}
		}
		for _, s := range r.Items {
			for _, c := range s.Chains(0, 0) {
				top, ok := r.Lookup(c[0])
				if !ok || !top.Root || c[len(c)-1] != s.Item.ID {
					t.Fatalf("%s: chain %v does not run from a root down to it", s.Item.ID, c)
				}
			}
			for _, c := range s.Why() {
				if len(c) > MaxChainLen {
					t.Fatalf("%s: Why chain of %d ids, more than %d", s.Item.ID, len(c), MaxChainLen)
				}
			}
			for _, c := range s.Item.Needs {
				for _, p := range r.Items {
					if contains(p.Item.Provides, c) && pos[p.Item.ID] > pos[s.Item.ID] {
						t.Fatalf("%s needs %s but its provider %s is ordered after it", s.Item.ID, c, p.Item.ID)
					}
				}
			}
			for _, req := range s.Item.Requires {
				p, ok := pos[req]
				if !ok {
					t.Fatalf("%s requires %s which is missing", s.Item.ID, req)
				}
				if p > pos[s.Item.ID] {
					t.Fatalf("%s ordered before its dependency %s", s.Item.ID, req)
				}
			}
		}
	})
}

// FuzzDesign parses arbitrary osdesign.toml files and, when one parses,
// resolves it over the real catalog and merges its settings: no panic, no
// hang, and every merged setting is in the canonical form of its declared
// type.
func FuzzDesign(f *testing.F) {
	cat, err := feature.Load("../..")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("bsp = \"qemu-x86_64\"\nlocales = [\"de-DE\"]\n[flags]\nSYSGEN_MESSENGER = true\n[settings]\n\"msmsgs.server\" = \"10.0.2.2:1863\"\n\"net.tcp_keepalive_time\" = \"30s\"\n"))
	f.Add([]byte("[flags]\nSYSGEN_TCPIP = true\nSYSGEN_SHELL = false\n[settings]\n\"net.tcp_keepalive_probes\" = 3\n\"net.tcp_keepalive_tme\" = \"1s\"\n"))
	f.Add([]byte("bsp = \"qemu-aarch64\"\ncertificates = [\"ca.pem\"]\n[flags]\nSYSGEN_RTC = true\n[settings]\n\"rtc.media_ports\" = \"9-1\"\n\"rtc.sip_port\" = \"x\"\n"))
	f.Add([]byte("[settings]\n\"msmsgs.server\" = {a = [[1]]}\n"))
	f.Add([]byte("x = [[[[[[[[[[[[1]]]]]]]]]]]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		df, err := ParseFile("osdesign.toml", data)
		if err != nil {
			return
		}
		d, _ := Combine(df, Flags{}, "")
		r, err := Resolve(cat, d)
		if err != nil {
			return
		}
		merged, err := MergeSettings(r, df)
		if err != nil {
			if !errors.Is(err, ErrSetting) {
				t.Fatalf("MergeSettings error %v does not wrap ErrSetting", err)
			}
			return
		}
		for _, s := range merged {
			v, err := s.Type.Normalize(s.Value)
			if err != nil || !reflect.DeepEqual(v, s.Value) {
				t.Fatalf("merged %s = %#v is not canonical %s: %v", s.Key, s.Value, s.Type, err)
			}
		}
		if _, err := SettingsFile(merged); err != nil {
			t.Fatal(err)
		}
	})
}

package resolve

import (
	"fmt"
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

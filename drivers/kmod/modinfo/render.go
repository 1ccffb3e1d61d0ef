package modinfo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oemkit/messenger/drivers/kmod"
)

// IndexFiles renders modules.dep, modules.alias and modules.softdep (depmod
// formats) for mods, a closure: each hard dependency of a module is in mods
// or built into the kernel (then it is left out). Paths are the modules'
// Path; lines are sorted by module name.
func IndexFiles(mods []*kmod.Module) map[string][]byte {
	byName := map[string]*kmod.Module{}
	for _, m := range mods {
		byName[m.Name] = m
	}
	sorted := append([]*kmod.Module(nil), mods...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var dep, alias, soft strings.Builder
	alias.WriteString("# Aliases extracted from modules themselves.\n")
	soft.WriteString("# Soft dependencies extracted from modules themselves.\n")
	for _, m := range sorted {
		dep.WriteString(m.Path)
		dep.WriteString(":")
		for _, d := range TransitiveDeps(m.Name, byName) {
			dep.WriteString(" ")
			dep.WriteString(byName[d].Path)
		}
		dep.WriteString("\n")
		for _, a := range m.Aliases {
			fmt.Fprintf(&alias, "alias %s %s\n", a, m.Name)
		}
		if len(m.SoftPre) > 0 {
			fmt.Fprintf(&soft, "softdep %s pre: %s\n", m.Name, strings.Join(m.SoftPre, " "))
		}
	}
	return map[string][]byte{
		kmod.DepFile:     []byte(dep.String()),
		kmod.AliasFile:   []byte(alias.String()),
		kmod.SoftdepFile: []byte(soft.String()),
	}
}

// TransitiveDeps lists the hard dependencies of name found in all, in
// depmod order: a module appears before the modules it depends on.
func TransitiveDeps(name string, all map[string]*kmod.Module) []string {
	var order []string
	seen := map[string]bool{name: true}
	var visit func(n string)
	visit = func(n string) {
		m := all[n]
		if m == nil {
			return
		}
		for _, d := range m.Depends {
			if seen[d] || all[d] == nil {
				continue
			}
			seen[d] = true
			visit(d)
			order = append(order, d)
		}
	}
	visit(name)
	// order has dependencies before dependents; depmod lists the reverse.
	for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
		order[i], order[j] = order[j], order[i]
	}
	return order
}

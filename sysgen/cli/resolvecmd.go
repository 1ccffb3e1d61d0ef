package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/sysgen/design"
	"github.com/oemkit/messenger/sysgen/resolve"
)

// resolvedItem is one element of the `features` array of
// `sysgen resolve --format json` (a contract: id, title, why).
type resolvedItem struct {
	ID    string     `json:"id"`
	Title string     `json:"title"`
	Kind  string     `json:"kind"`
	Why   [][]string `json:"why"`
	// WhyTotal is the number of reasons when why lists only the first
	// resolve.MaxChains of them.
	WhyTotal int            `json:"why_total,omitempty"`
	Modules  []string       `json:"modules,omitempty"`
	Ports    []feature.Port `json:"ports,omitempty"`
	License  string         `json:"license"`
	// Pending says what of the item is still to come (absent when the
	// image carries working code for it).
	Pending string `json:"pending,omitempty"`
}

type resolvedDesign struct {
	BSP      string         `json:"bsp"`
	Arch     string         `json:"arch"`
	Flags    []string       `json:"flags"`
	Cleared  []string       `json:"cleared,omitempty"`
	Features []resolvedItem `json:"features"`
	// Pending are the ids of the design's items that are still to come.
	Pending []string `json:"pending,omitempty"`
}

func runResolve(_ context.Context, c *Context, args []string) error {
	s, r, format, err := c.resolveArgs("resolve", "resolve [--format text|json] [--bsp NAME] [--design FILE]", []string{"text", "json"}, args)
	if err != nil {
		return err
	}
	if format == "json" {
		out := resolvedDesign{BSP: r.BSP.BSP.Name, Arch: r.BSP.BSP.Arch, Flags: s.design.Set, Cleared: s.design.Cleared}
		for _, sel := range r.Items {
			it := sel.Item
			ri := resolvedItem{ID: it.ID, Title: it.Title, Kind: string(it.Kind),
				Why: sel.Why(), Modules: it.Modules, Ports: it.Ports, License: it.License, Pending: it.Pending}
			if n := sel.Reasons(); n > len(ri.Why) {
				ri.WhyTotal = n
			}
			out.Features = append(out.Features, ri)
			if it.Pending != "" {
				out.Pending = append(out.Pending, it.ID)
			}
		}
		return writeJSON(c, out)
	}
	fmt.Fprintf(c.Stdout, "OS design for BSP %s (%s), flags: %s\n", r.BSP.BSP.Name, r.BSP.BSP.Arch, strings.Join(s.design.Set, " "))
	fmt.Fprintf(c.Stdout, "%d items in build order:\n\n", len(r.Items))
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tID\tSTATE\tTITLE\tWHY")
	for i, sel := range r.Items {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, sel.Item.ID, state(sel.Item), sel.Item.Title, whyText(sel))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writePending(c, design.Pending(r))
}

// whyText is the shortest chain, or "OEM flag"/"BSP" for roots.
func whyText(sel *resolve.Selected) string {
	chains := sel.Chains(1, resolve.MaxChainLen)
	if len(chains) == 0 {
		return ""
	}
	if len(chains[0]) == 1 {
		if sel.Item.Kind == feature.KindBSP {
			return "board support package"
		}
		return "OEM flag"
	}
	s := strings.Join(chains[0], " -> ")
	if n := sel.Reasons(); n > 1 {
		s += fmt.Sprintf(" (+%d more)", n-1)
	}
	return s
}

func rel(root, path string) string {
	r, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/oemkit/messenger/feature"
	"github.com/oemkit/messenger/sysgen/resolve"
)

func runWhy(_ context.Context, c *Context, args []string) error {
	fs, co := c.flags("why", "why ID [--bsp NAME] [--design FILE]", nil)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("sysgen why: need exactly one item id, e.g. sysgen why SYSGEN_SHDOCVW")
	}
	id := pos[0]
	s, err := c.session(co)
	if err != nil {
		return err
	}
	if _, ok := s.cat.Lookup(id); !ok {
		return fmt.Errorf("sysgen why: %w: %s is not in the catalog%s", resolve.ErrUnknownItem, id, feature.Suggest(id, s.cat.IDs()))
	}
	r, err := s.resolve()
	if err != nil {
		return err
	}
	sel, ok := r.Lookup(id)
	if !ok {
		return fmt.Errorf("sysgen why: %w: %s is not in this design; run `sysgen why-not %s` to see why", resolve.ErrNotSelected, id, id)
	}
	fmt.Fprintf(c.Stdout, "%s (%s) is in the design because:\n", id, sel.Item.Title)
	printChains(c, sel, s)
	return nil
}

// printChains prints the first resolve.MaxChains chains of one item in
// full, then how many reasons are left out.
func printChains(c *Context, sel *resolve.Selected, s *session) {
	chains := sel.Chains(resolve.MaxChains, 0)
	for _, chain := range chains {
		fmt.Fprintf(c.Stdout, "  %s\n", describeChain(chain, s))
	}
	if n := sel.Reasons() - len(chains); n > 0 {
		fmt.Fprintf(c.Stdout, "  ... and %d more reasons (`sysgen resolve --format json` counts them in why_total)\n", n)
	}
}

func describeChain(chain []string, s *session) string {
	root := chain[0]
	how := "OEM flag"
	if src, ok := s.flags.Source[root]; ok {
		how = "OEM flag from " + src
	} else if it, ok := s.cat.Lookup(root); ok && it.Kind == feature.KindBSP {
		how = "board support package"
	}
	return fmt.Sprintf("%s   [%s]", strings.Join(chain, " -> "), how)
}

func runWhyNot(_ context.Context, c *Context, args []string) error {
	fs, co := c.flags("why-not", "why-not ID [--bsp NAME] [--design FILE]", nil)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("sysgen why-not: need exactly one item id")
	}
	id := pos[0]
	s, err := c.session(co)
	if err != nil {
		return err
	}
	it, ok := s.cat.Lookup(id)
	if !ok {
		return fmt.Errorf("sysgen why-not: %w: %s is not in the catalog%s", resolve.ErrUnknownItem, id, feature.Suggest(id, s.cat.IDs()))
	}
	r, err := s.resolve()
	if err != nil {
		fmt.Fprintf(c.Stdout, "The design itself does not resolve, so nothing is in it:\n")
		return err
	}
	if sel, ok := r.Lookup(id); ok {
		fmt.Fprintf(c.Stdout, "%s is in the design:\n", id)
		printChains(c, sel, s)
		return nil
	}
	if it.Kind == feature.KindBSP {
		fmt.Fprintf(c.Stdout, "%s is a board support package; this design uses %s. Select it with --bsp %s.\n", id, r.BSP.BSP.Name, it.BSP.Name)
		return nil
	}
	for _, cl := range s.design.Cleared {
		if cl == id {
			fmt.Fprintf(c.Stdout, "%s is cleared by %s (%s=). Remove the clear to allow it.\n", id, s.flags.Source[id], id)
		}
	}
	var dependents []string
	for _, other := range s.cat.Items {
		for _, req := range other.Requires {
			if req == id {
				dependents = append(dependents, other.ID)
			}
		}
	}
	if len(dependents) > 0 {
		fmt.Fprintf(c.Stdout, "%s is not selected: no OEM flag sets it and none of the items that require it is in the design (%s).\n", id, strings.Join(dependents, ", "))
	} else {
		fmt.Fprintf(c.Stdout, "%s is not selected: no OEM flag sets it and no catalog item requires it.\n", id)
	}
	// Would adding it work?
	d := s.design
	d.Set = append(append([]string(nil), d.Set...), id)
	d.Cleared = without(d.Cleared, id)
	r2, err := resolve.Resolve(s.cat, d)
	if err != nil {
		fmt.Fprintf(c.Stdout, "Adding it with %s=1 would fail:\n  %v\n", id, err)
		if errors.Is(err, resolve.ErrUnprovided) || errors.Is(err, resolve.ErrHardware) {
			return nil
		}
		return nil
	}
	var added []string
	for _, sel := range r2.Items {
		if _, ok := r.Lookup(sel.Item.ID); !ok {
			added = append(added, sel.Item.ID)
		}
	}
	fmt.Fprintf(c.Stdout, "Adding it with %s=1 would work and add %d item(s): %s\n", id, len(added), strings.Join(added, ", "))
	return nil
}

func without(list []string, v string) []string {
	var out []string
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/oemkit/messenger/feature"
)

// listEntry is one catalog item in `sysgen list --format json`.
type listEntry struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Kind        string   `json:"kind"`
	NameSource  string   `json:"name_source"`
	Description string   `json:"description"`
	License     string   `json:"license"`
	Requires    []string `json:"requires,omitempty"`
	Provides    []string `json:"provides,omitempty"`
	Needs       []string `json:"needs,omitempty"`
	Hardware    []string `json:"hardware,omitempty"`
	BSP         string   `json:"bsp,omitempty"`
	File        string   `json:"file"`
	// Pending says what of the item is still to come; absent when the
	// image carries working code for it.
	Pending string `json:"pending,omitempty"`
	// ImplementedIn are the Go package folders where its behaviour lives,
	// besides its own commands and folder.
	ImplementedIn []string `json:"implemented_in,omitempty"`
}

func runList(_ context.Context, c *Context, args []string) error {
	fs, co := c.flags("list", "list [--format text|json] [--catalog DIR]", []string{"text", "json"})
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(co, "text", "json"); err != nil {
		return err
	}
	cat, root, err := c.loadCatalog(co)
	if err != nil {
		return err
	}
	if co.format == "json" {
		out := make([]listEntry, 0, len(cat.Items))
		for _, it := range cat.Items {
			e := listEntry{ID: it.ID, Title: it.Title, Kind: string(it.Kind), NameSource: it.NameSource,
				Description: it.Description, License: it.License, Requires: it.Requires,
				Provides: it.Provides, Needs: it.Needs, Hardware: it.Hardware, File: rel(root, it.File),
				Pending: it.Pending, ImplementedIn: it.ImplementedIn}
			if it.BSP != nil {
				e.BSP = it.BSP.Name
			}
			out = append(out, e)
		}
		return writeJSON(c, out)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tTITLE")
	var pending []*feature.Item
	for _, it := range cat.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", it.ID, it.Kind, state(it), it.Title)
		if it.Pending != "" {
			pending = append(pending, it)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writePending(c, pending)
}

// state is the STATE column of list and resolve: "pending" for an item
// whose implementation is still to come.
func state(it *feature.Item) string {
	if it.Pending != "" {
		return "pending"
	}
	return "ok"
}

// writePending prints one line per pending item after a table, so that
// every run says what the image does not carry yet.
func writePending(c *Context, items []*feature.Item) error {
	if len(items) == 0 {
		return nil
	}
	fmt.Fprintf(c.Stdout, "\n%d pending (in the catalog, not yet working on the device):\n", len(items))
	for _, it := range items {
		if _, err := fmt.Fprintf(c.Stdout, "  %s: %s\n", it.ID, it.Pending); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(c *Context, v any) error {
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func orDot(s string) string {
	if s == "" {
		return "."
	}
	return s
}

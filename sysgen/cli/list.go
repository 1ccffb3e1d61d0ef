package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
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
				Provides: it.Provides, Needs: it.Needs, Hardware: it.Hardware, File: rel(root, it.File)}
			if it.BSP != nil {
				e.BSP = it.BSP.Name
			}
			out = append(out, e)
		}
		return writeJSON(c, out)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tTITLE")
	for _, it := range cat.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", it.ID, it.Kind, it.Title)
	}
	return tw.Flush()
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

package cli

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/oemkit/messenger/sysgen/resolve"
)

func runSettings(_ context.Context, c *Context, args []string) error {
	formats := []string{"text", "json"}
	fs, co := c.flags("settings", "settings [--all] [--format text|json] [--bsp NAME] [--design FILE]", formats)
	all := fs.Bool("all", false, "list every setting the design's items declare, with its type and meaning, set or not")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(co, formats...); err != nil {
		return err
	}
	s, err := c.session(co)
	if err != nil {
		return err
	}
	r, err := s.resolve()
	if err != nil {
		return err
	}
	set, err := resolve.MergeSettings(r, s.file)
	if err != nil {
		return err
	}
	if *all {
		return settingsDeclared(c, r, set, co.format)
	}
	if co.format == "json" {
		b, err := resolve.SettingsFile(set)
		if err != nil {
			return err
		}
		_, err = c.Stdout.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tVALUE\tFROM\tOVERRIDES")
	for _, st := range set {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", st.Key, st.Type, st.Value, st.Source, strings.Join(st.Overrides, ", "))
	}
	return tw.Flush()
}

// declaredSetting is one entry of `sysgen settings --all --format json`.
type declaredSetting struct {
	Key     string `json:"key"`
	Type    string `json:"type"`
	Owner   string `json:"owner"`
	Default any    `json:"default,omitempty"`
	Value   any    `json:"value,omitempty"`
	Source  string `json:"source,omitempty"`
	Meaning string `json:"meaning"`
}

// settingsDeclared lists the settings of the design's items: declaration,
// and the merged value when there is one.
func settingsDeclared(c *Context, r *resolve.Result, set []resolve.Setting, format string) error {
	merged := map[string]resolve.Setting{}
	for _, st := range set {
		merged[st.Key] = st
	}
	var out []declaredSetting
	for _, sel := range r.Items {
		for _, k := range slices.Sorted(maps.Keys(sel.Item.Settings)) {
			d := sel.Item.Settings[k]
			if d.Type == "" {
				continue
			}
			e := declaredSetting{Key: k, Type: string(d.Type), Owner: sel.Item.ID, Default: d.Default, Meaning: d.Meaning}
			if m, ok := merged[k]; ok {
				e.Value, e.Source = m.Value, m.Source
			}
			out = append(out, e)
		}
	}
	if format == "json" {
		return writeJSON(c, out)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tTYPE\tVALUE\tFROM\tMEANING")
	for _, e := range out {
		v, src := any("(unset)"), "-"
		if e.Source != "" {
			v, src = e.Value, e.Source
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\n", e.Key, e.Type, v, src, e.Meaning)
	}
	return tw.Flush()
}

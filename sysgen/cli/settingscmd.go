package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/oemkit/messenger/sysgen/resolve"
)

func runSettings(_ context.Context, c *Context, args []string) error {
	s, r, format, err := c.resolveArgs("settings", "settings [--format text|json] [--bsp NAME] [--design FILE]", []string{"text", "json"}, args)
	if err != nil {
		return err
	}
	set, err := resolve.MergeSettings(r, s.file)
	if err != nil {
		return err
	}
	if format == "json" {
		b, err := resolve.SettingsFile(set)
		if err != nil {
			return err
		}
		_, err = c.Stdout.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tFROM\tOVERRIDES")
	for _, st := range set {
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\n", st.Key, st.Value, st.Source, strings.Join(st.Overrides, ", "))
	}
	return tw.Flush()
}

package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/oemkit/messenger/sysgen/resolve"
)

func runSettings(_ context.Context, c *Context, args []string) error {
	fs, co := c.flags("settings", "settings [--format text|json] [--bsp NAME] [--design FILE]", []string{"text", "json"})
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFormat(co, "text", "json"); err != nil {
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
	if co.format == "json" {
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

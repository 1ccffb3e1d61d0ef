package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
)

// portEntry is one element of `sysgen ports --format json` (a contract).
type portEntry struct {
	Proto     string `json:"proto"`
	Ports     string `json:"ports"`
	Direction string `json:"direction"`
	Feature   string `json:"feature"`
	Purpose   string `json:"purpose"`
}

func runPorts(_ context.Context, c *Context, args []string) error {
	_, r, format, err := c.resolveArgs("ports", "ports [--format text|json] [--bsp NAME] [--design FILE]", []string{"text", "json"}, args)
	if err != nil {
		return err
	}
	out := []portEntry{}
	for _, sel := range r.Items {
		for _, p := range sel.Item.Ports {
			out = append(out, portEntry{Proto: p.Proto, Ports: p.Ports, Direction: p.Direction, Feature: sel.Item.ID, Purpose: p.Purpose})
		}
	}
	if format == "json" {
		return writeJSON(c, out)
	}
	fmt.Fprintf(c.Stdout, "Network ports of the OS design (BSP %s). Hand this table to the firewall admin.\n", r.BSP.BSP.Name)
	fmt.Fprintf(c.Stdout, "Direction is seen from the device: out = the device connects, in = peers connect to the device.\n\n")
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROTO\tPORTS\tDIRECTION\tFEATURE\tPURPOSE")
	for _, p := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Proto, p.Ports, p.Direction, p.Feature, p.Purpose)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, "\nTCP connections to the service stay open for hours: allow long idle timeouts on the firewall (the device sends keepalives).")
	return nil
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// bootBreakdown prints where the time after u-root's /init went, from the
// host's clock (banner to DEVICE-READY) and the device init's own report:
// u-root's init up to the device init's start (it loads modules_load=
// modules first), then each phase of the device init (drivers, settings,
// state, report), with the drivers it bound.
func bootBreakdown(w io.Writer, afterInit time.Duration, start, drivers, ready string) {
	var st struct {
		UptimeMS int64 `json:"uptime_ms"`
	}
	var drv struct {
		Loaded  []string          `json:"loaded"`
		Skipped map[string]string `json:"skipped"`
		Failed  map[string]string `json:"failed"`
		TookMS  int64             `json:"took_ms"`
		InitMS  map[string]int64  `json:"init_ms"`
	}
	var rd struct {
		UptimeMS int64 `json:"uptime_ms"`
		Boot     []struct {
			Name string `json:"name"`
			MS   int64  `json:"ms"`
		} `json:"boot"`
	}
	if json.Unmarshal([]byte(start), &st) != nil || json.Unmarshal([]byte(ready), &rd) != nil || len(rd.Boot) == 0 {
		return // an image from before the breakdown
	}
	_ = json.Unmarshal([]byte(drivers), &drv)
	ms := func(v int64) string { return fmt.Sprintf("%6.3f s", float64(v)/1000) }
	fmt.Fprintf(w, "after /init: %.3f s\n", afterInit.Seconds())
	if devInit := rd.UptimeMS - st.UptimeMS; st.UptimeMS > 0 && afterInit > 0 {
		fmt.Fprintf(w, "  %s  u-root init until the device init started (modules_load=, uinit)\n", ms(afterInit.Milliseconds()-devInit))
	}
	for _, p := range rd.Boot {
		line := fmt.Sprintf("  %s  %s", ms(p.MS), p.Name)
		if p.Name == "drivers" {
			var parts []string
			if len(drv.Loaded) > 0 {
				parts = append(parts, "bound "+strings.Join(drv.Loaded, ", ")+" in parallel")
			}
			for _, m := range []map[string]string{drv.Skipped, drv.Failed} {
				for name := range m {
					parts = append(parts, name+" not bound")
				}
			}
			if len(parts) > 0 {
				line += " (" + strings.Join(parts, "; ") + ")"
			}
		}
		fmt.Fprintln(w, line)
		if p.Name == "drivers" {
			names := make([]string, 0, len(drv.InitMS))
			for name := range drv.InitMS {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				// "network/dhcp" is a step inside the network driver's Init.
				label := "driver " + name + " Init"
				if strings.Contains(name, "/") {
					label = "  " + name
				}
				fmt.Fprintf(w, "      %s  %s\n", ms(drv.InitMS[name]), label)
			}
		}
	}
}

//go:build sysgen_watchdog && linux

package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/oemkit/messenger/drivers/watchdog"
	"github.com/oemkit/messenger/feature/settings"
)

// MarkerWatchdog reports the hardware watchdog: its timeout and whether it
// is kicked.
const MarkerWatchdog = "DEVICE-WATCHDOG"

// watchdogReport is a DEVICE-WATCHDOG line.
type watchdogReport struct {
	Device string `json:"device,omitempty"`
	// State: "kicked" (a healthy system kicks it), "trial" (armed, not
	// kicked until the trial's health check passes), "none" (no timer
	// bound), "error".
	State     string `json:"state"`
	TimeoutS  int    `json:"timeout_s,omitempty"`
	KickEvery string `json:"kick_every,omitempty"`
	Error     string `json:"error,omitempty"`
}

// watchGuard is the armed hardware watchdog of the running system.
type watchGuard struct {
	con    console
	dev    *watchdog.Dev
	normal time.Duration
	once   sync.Once
}

// startWatchdog takes over the watchdog the driver started at bind (with
// its boot timeout), when there is one.
// trial == 0: the system is healthy, the watchdog runs with
// watchdog.timeout and is kicked from now on. trial > 0: a trial boot with
// that long to pass its health check; the watchdog runs with trial plus
// watchdog.timeout and is not kicked until healthy is called, so a trial
// that hangs is reset. It returns nil when there is no watchdog.
func startWatchdog(con console, set *settings.File, trial time.Duration) *watchGuard {
	dev := watchdog.Armed()
	if dev == nil {
		why := watchdog.ErrNoWatchdog.Error()
		if _, err := os.Stat(watchdog.Path); err == nil {
			why = "the watchdog driver could not start " + watchdog.Path + " (see DEVICE-DRIVERS)"
		}
		con.emit(MarkerWatchdog, watchdogReport{State: "none", Error: why})
		return nil
	}
	normal := 30 * time.Second
	if set != nil {
		if d, err := set.Duration("watchdog.timeout"); err == nil && d > 0 {
			normal = d
		}
	}
	timeout := normal
	if trial > 0 {
		timeout = trial + normal
	}
	g := &watchGuard{con: con, dev: dev, normal: normal}
	if err := dev.SetTimeout(timeout); err != nil {
		con.emit(MarkerWatchdog, watchdogReport{Device: watchdog.Path, State: "error", Error: err.Error()})
	}
	if trial > 0 {
		con.emit(MarkerWatchdog, watchdogReport{Device: watchdog.Path, State: "trial", TimeoutS: int(dev.Timeout() / time.Second)})
		return g
	}
	g.healthy()
	return g
}

// healthy switches the watchdog to watchdog.timeout and kicks it from now
// on, every third of the timeout, for as long as the init runs.
func (g *watchGuard) healthy() {
	if g == nil {
		return
	}
	g.once.Do(func() {
		rep := watchdogReport{Device: watchdog.Path, State: "kicked"}
		if err := g.dev.SetTimeout(g.normal); err != nil {
			rep.Error = err.Error()
		}
		every := watchdog.KickInterval(g.dev.Timeout())
		rep.TimeoutS, rep.KickEvery = int(g.dev.Timeout()/time.Second), every.String()
		g.con.emit(MarkerWatchdog, rep)
		go func() {
			failed := false
			for range time.Tick(every) {
				if err := g.dev.Kick(); err != nil && !failed {
					failed = true
					fmt.Fprintf(g.con.w, "deviceinit: %v\n", err)
				}
			}
		}()
	})
}

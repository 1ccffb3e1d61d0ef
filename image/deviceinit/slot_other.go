//go:build !sysgen_update || !linux

package main

import (
	"context"

	"github.com/oemkit/messenger/feature/settings"
)

// checkSlot only arms the watchdog (when the design has one) without
// SYSGEN_UPDATE.
func checkSlot(_ context.Context, con console, _ driverReport, set *settings.File, _ []service) {
	startWatchdog(con, set, 0)
}

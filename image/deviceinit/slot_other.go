//go:build !sysgen_update || !linux

package main

import (
	"context"

	"github.com/oemkit/messenger/feature/settings"
)

// checkSlot does nothing without SYSGEN_UPDATE.
func checkSlot(context.Context, console, driverReport, *settings.File, []service) {}

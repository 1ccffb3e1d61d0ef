//go:build !sysgen_watchdog || !linux

package main

import (
	"time"

	"github.com/oemkit/messenger/feature/settings"
)

// watchGuard is nothing without SYSGEN_WATCHDOG.
type watchGuard struct{}

// startWatchdog does nothing without SYSGEN_WATCHDOG.
func startWatchdog(console, *settings.File, time.Duration) *watchGuard { return nil }

func (g *watchGuard) healthy() {}

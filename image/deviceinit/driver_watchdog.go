//go:build sysgen_watchdog

package main

// The watchdog driver is linked when the design has SYSGEN_WATCHDOG.
import _ "github.com/oemkit/messenger/drivers/watchdog"

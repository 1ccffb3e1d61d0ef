//go:build !sysgen_statefs || !linux

package main

import "github.com/oemkit/messenger/feature/settings"

// mountState does nothing without SYSGEN_STATEFS: state stays in RAM.
func mountState(*settings.File) string { return "" }

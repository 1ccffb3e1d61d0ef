//go:build !sysgen_statefs || !linux

package main

// mountState does nothing without SYSGEN_STATEFS: state stays in RAM.
func mountState(map[string]any) string { return "" }

//go:build sysgen_input_evdev

package main

// The input driver is linked when the design has SYSGEN_INPUT_EVDEV.
import _ "github.com/oemkit/messenger/drivers/input"

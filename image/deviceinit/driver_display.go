//go:build sysgen_display_fb

package main

// The display driver is linked when the design has SYSGEN_DISPLAY_FB.
import _ "github.com/oemkit/messenger/drivers/display"

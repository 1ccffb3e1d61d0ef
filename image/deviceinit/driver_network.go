//go:build sysgen_ethernet

package main

// The network driver is linked when the design has SYSGEN_ETHERNET.
import _ "github.com/oemkit/messenger/drivers/network"

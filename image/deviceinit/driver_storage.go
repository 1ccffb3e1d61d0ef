//go:build sysgen_statefs

package main

// The storage driver is linked when the design has SYSGEN_STATEFS.
import _ "github.com/oemkit/messenger/drivers/storage"

// Command deviceinit is the device's uinit: u-root's init runs it after
// mounting /proc, /sys and /dev. It binds the drivers registered with periph's
// driverreg, prints a one-line JSON report and the ready marker, runs the
// self-test the kernel command line asks for, then starts and supervises the
// design's services.
//
// Console protocol (one line each, JSON after the marker):
//
//	DEVICEINIT-START {"uptime_ms":...}
//	DEVICE-DRIVERS {"loaded":[...],"skipped":[...],"failed":[...],...}
//	DEVICE-READY {"uptime_ms":...,"interfaces":[...],...}
//	DEVICE-TEST {"ok":true,...}            (only with devicetest.* flags)
//	SERVICE name: started|exited ...
//
// Kernel command line flags: devicetest.tcp=HOST:PORT (exchange a line over
// TCP), devicetest.tone=HZ (play a sine through the audio driver),
// devicetest.ms=MS (tone length, default 1500), devicetest.poweroff=1 (power
// off when the test is done).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/oemkit/messenger/image/marker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "deviceinit: %v\n", err)
		os.Exit(1)
	}
}

// Ready and report markers printed on the console (package marker defines
// them for the device and the host alike).
const (
	MarkerStart   = marker.Start
	MarkerDrivers = marker.Drivers
	MarkerReady   = marker.Ready
	MarkerTest    = marker.Test
)

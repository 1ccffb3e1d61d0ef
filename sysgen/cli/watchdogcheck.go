package cli

import (
	"fmt"
	"io"

	"github.com/oemkit/messenger/sysgen/resolve"
)

// warnNoWatchdog says, when the design has the watchdog driver and the
// board has no watchdog hardware, what the device will not do: the image
// still builds, and the driver is skipped on the device with the reason.
func warnNoWatchdog(w io.Writer, r *resolve.Result) {
	if _, ok := r.Lookup("SYSGEN_WATCHDOG"); !ok || r.BSP.BSP.HasHardware("watchdog") {
		return
	}
	why := "a device that hangs is not reset"
	if _, ok := r.Lookup("SYSGEN_UPDATE"); ok {
		why = "a trial boot of an update that hangs before its health check is not reset into the old slot (a kernel panic still is: panic=10)"
	}
	fmt.Fprintf(w, "sysgen: SYSGEN_WATCHDOG: BSP %s lists no watchdog hardware, so %s; add a [[bsp.hardware]] kind = \"watchdog\" timer the driver knows (QEMU: -device i6300esb)\n", r.BSP.BSP.Name, why)
}

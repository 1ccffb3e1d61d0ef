// Command timesvc is the device's time service (SYSGEN_TIMESVC):
//
//	timesvc daemon [-config /etc/settings.json] [-status PATH] [-server HOST:PORT]
//	timesvc status [-status PATH] [-json]
//	timesvc query  [-config /etc/settings.json] [-server HOST:PORT]
//
// daemon sets the clock from the SNTP server named by timesvc.server and
// keeps it set (the device init starts it); status prints what the daemon
// last did and exits 1 unless the clock is synced; query asks the server
// once and prints the offset without touching the clock.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

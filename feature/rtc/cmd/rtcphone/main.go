// Command rtcphone is the lab tool of the RTC voice stack: it dials or
// answers one SIP voice call, plays a WAV file or a tone, records what
// arrives, prints the call statistics, and exits 0 only if the call worked.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/emiago/sipgo/sip"
)

func main() {
	if !slices.Contains(os.Args[1:], "-v") {
		// sipgo logs some transport events on its package default logger.
		sip.SetDefaultLogger(slog.New(slog.DiscardHandler))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtcphone:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

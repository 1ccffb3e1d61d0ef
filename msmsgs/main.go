// Command msmsgs is the Messenger client of the device: it signs in to a
// .NET Messenger-compatible service over MSNP8 with Passport 1.4, shows
// contacts and presence, sets the user's status and carries conversations.
//
//	msmsgs daemon  -server HOST:PORT -account EMAIL [-password-file FILE] [-ca FILE] [-ctl PATH] [-config FILE]
//	msmsgs console (same flags)
//	msmsgs ctl [-ctl PATH] COMMAND [ARGS]
//
// The daemon serves a unix control socket that `msmsgs ctl` drives, like
// wpa_cli drives wpa_supplicant. The console runs a text UI on standard
// input and output for the device's serial console.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/oemkit/messenger/msmsgs/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "msmsgs:", err)
		var ue config.UsageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

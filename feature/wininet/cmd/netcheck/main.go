// Command netcheck is the device's connection test, the equivalent of
// testing the settings under Options > Connection: it reaches each target
// with the same proxy, DNS and certificate store msmsgs uses and reports
// the hop that fails.
//
//	netcheck [-proxy URL] [-certs DIR] [-ca FILE] [-resolv FILE] [-timeout D] TARGET...
//
// A TARGET is an https:// or http:// URL (fetched with GET) or host:port
// (a TCP connection, like msmsgs to a notification server). Exit status:
// 0 all reached, 1 a target failed, 2 usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	default:
		os.Exit(1)
	}
}

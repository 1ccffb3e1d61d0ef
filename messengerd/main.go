// Command messengerd is a self-hostable lab service for what msmsgs speaks:
// the MSNP8 dispatch, notification and switchboard servers, and Passport 1.4
// nexus and login over HTTPS with its own lab CA.
//
//	messengerd serve -data DIR -addr 127.0.0.1:1863 -https 127.0.0.1:8443 [-http ADDR]
//	messengerd user add -data DIR EMAIL   (password on standard input)
//	messengerd user list -data DIR
//	messengerd user passwd -data DIR EMAIL
//
// serve prints one JSON line on standard output with the addresses it listens
// on, the nexus URL and the CA certificate path; logs go to standard error.
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
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		smallStacks()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "messengerd:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

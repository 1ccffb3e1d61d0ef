// Command sysgen turns the OEM's SYSGEN flags into a resolved, explained OS
// design and a bootable image: list, resolve, why, why-not, graph, ports,
// settings, build, boot, size. Run `sysgen --help`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/oemkit/messenger/sysgen/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	dir, _ := os.Getwd()
	c := &cli.Context{Args: os.Args[1:], Env: os.Environ(), Dir: dir, Stdout: os.Stdout, Stderr: os.Stderr}
	err := c.Execute(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(cli.Code(err))
}

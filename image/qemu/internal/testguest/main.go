// Command testguest is the /init of the console driver's QEMU test: it
// prints the ready marker and then runs a POSIX shell (mvdan.cc/sh, the
// interpreter behind the device's gosh) on the serial console.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/oemkit/messenger/image/marker"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

func main() {
	fmt.Printf("%s {\"pid\":%d}\n", marker.Ready, os.Getpid())
	r, err := interp.New(interp.StdIO(os.Stdin, os.Stdout, os.Stdout))
	if err != nil {
		fmt.Println("testguest:", err)
		return
	}
	ctx := context.Background()
	err = syntax.NewParser().Interactive(os.Stdin, func(stmts []*syntax.Stmt) bool {
		for _, st := range stmts {
			r.Run(ctx, st)
			if r.Exited() {
				return false
			}
		}
		return true
	})
	fmt.Println("testguest: shell ended:", err)
	select {} // /init must not exit
}

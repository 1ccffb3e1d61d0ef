package main

import (
	"os"
	"strings"
	"syscall"
)

// smallStacks restarts the process once with GODEBUG=adaptivestackstart=0
// unless GODEBUG already says otherwise. With the runtime's adaptive
// starting stack size, connection goroutines start at the average stack size
// of busy goroutines (8 KiB) and can only shrink to 4 KiB; with the fixed
// 2 KiB start, an idle signed-in client costs about 2 KiB of stack (see
// server.runSession). The setting is read only at process start, hence the
// exec; the process id stays the same.
func smallStacks() {
	gd := os.Getenv("GODEBUG")
	if strings.Contains(gd, "adaptivestackstart=") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	if gd != "" {
		gd += ","
	}
	env := append(os.Environ(), "GODEBUG="+gd+"adaptivestackstart=0")
	syscall.Exec(exe, os.Args, env) // returns only on failure: run as is
}

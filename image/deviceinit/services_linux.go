package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// lookPath finds a bare command name in /bbin and /bin (the image has no PATH
// guarantees when started by init).
func lookPath(name string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, d := range []string{"/bbin", "/bin", "/ubin"} {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return name
}

// supervise starts each service and restarts those with Restart set when
// they exit, with a growing delay (1 s doubling up to 30 s; reset after a
// minute of uptime). It returns at once; the goroutines stop with ctx.
func supervise(ctx context.Context, services []service, stdout, stderr io.Writer) {
	for _, s := range services {
		go func(s service) {
			delay := time.Second
			for {
				start := time.Now()
				cmd := exec.CommandContext(ctx, lookPath(s.Argv[0]), s.Argv[1:]...)
				cmd.Stdout, cmd.Stderr = stdout, stderr
				err := cmd.Start()
				if err == nil {
					fmt.Fprintf(stdout, "SERVICE %s: started pid %d\n", s.Name, cmd.Process.Pid)
					err = cmd.Wait()
				}
				status := "exit 0"
				if err != nil {
					status = err.Error()
				}
				if ctx.Err() != nil {
					return
				}
				if !s.Restart {
					fmt.Fprintf(stdout, "SERVICE %s: exited (%s), not restarting\n", s.Name, status)
					return
				}
				if time.Since(start) > time.Minute {
					delay = time.Second
				}
				fmt.Fprintf(stdout, "SERVICE %s: exited (%s) after %v, restarting in %v\n", s.Name, status, time.Since(start).Round(time.Millisecond), delay)
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
				delay = min(2*delay, 30*time.Second)
			}
		}(s)
	}
}

// shellPath is the console shell the image has when the design includes
// SYSGEN_SHELL.
const shellPath = "/bin/sh"

// consoleShell runs the design's shell on the serial console (the device
// init's own standard input and output) and starts a new one when it exits,
// so a person or a test rig at the console can always type commands. It
// returns at once; without SYSGEN_SHELL it does nothing.
func consoleShell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) {
	if _, err := os.Stat(shellPath); err != nil {
		return
	}
	go func() {
		for ctx.Err() == nil {
			cmd := exec.CommandContext(ctx, shellPath)
			cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
			cmd.Env = append(os.Environ(), "PS1=$ ")
			fmt.Fprintf(stdout, "SERVICE console-shell: started\n")
			err := cmd.Run()
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintf(stdout, "SERVICE console-shell: exited (%v), starting a new one\n", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

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

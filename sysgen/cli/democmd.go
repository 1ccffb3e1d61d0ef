package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemkit/messenger/sysgen/demo"
	"github.com/oemkit/messenger/sysgen/resolve"
)

func init() {
	extraCommands = append(extraCommands, command{"demo",
		"build the Messenger image, start the lab service, boot the device and show it talking (PASS or FAIL)", runDemo})
}

func runDemo(ctx context.Context, c *Context, args []string) error {
	fs, co := c.flags("demo", "demo [--bsp NAME] [--work DIR] [--check]", nil)
	work := fs.String("work", "", "folder for the lab data, image and logs (default: a new temp folder)")
	check := fs.Bool("check", false, "run the scenario's checks, stop everything and exit 0 if all passed, 1 at the first that failed (without it the device, the lab and the host client keep running after PASS until Ctrl-C)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	root, err := catalogRoot(orDot(c.Dir))
	if err != nil {
		return err
	}
	if *work == "" {
		if *work, err = os.MkdirTemp("", "messenger-demo-"); err != nil {
			return err
		}
	} else if *work, err = filepath.Abs(*work); err != nil {
		return err
	}
	logs := filepath.Join(*work, "logs")
	build := func(ctx context.Context, design, dir string) error {
		// The demo's design file is the whole design: drop the caller's
		// SYSGEN_ flags so they cannot change it.
		var env []string
		for _, kv := range c.Env {
			if !strings.HasPrefix(kv, resolve.FlagPrefix) && !strings.HasPrefix(kv, "IMGNOLOC=") {
				env = append(env, kv)
			}
		}
		var out, errb bytes.Buffer
		bc := &Context{Args: []string{"build", "-o", dir, "--design", design}, Env: env, Dir: root, Stdout: &out, Stderr: &errb}
		err := bc.Execute(ctx)
		if werr := os.WriteFile(filepath.Join(logs, "build.log"), append(errb.Bytes(), out.Bytes()...), 0o644); werr != nil && err == nil {
			err = werr
		}
		if err != nil {
			return fmt.Errorf("%w (build log: %s)", err, filepath.Join(logs, "build.log"))
		}
		return nil
	}
	res, err := demo.Run(ctx, demo.Options{Root: root, Work: *work, BSP: co.bsp, Out: c.Stdout, Build: build, Keep: !*check})
	if err != nil {
		fmt.Fprintf(c.Stdout, "FAIL: %v\nlogs: %s\n", err, filepath.Join(*work, "logs"))
		return &ExitError{Code: 1, Err: fmt.Errorf("demo failed (logs in %s)", filepath.Join(*work, "logs"))}
	}
	fmt.Fprintf(c.Stdout, "boot: /init after %.1fs, ready after %.1fs, signed in after %.1fs (image built in %.1fs)\n",
		res.ToInit.Seconds(), res.ToReady.Seconds(), res.ToSignedIn.Seconds(), res.Build.Seconds())
	fmt.Fprintf(c.Stdout, "PASS (%d checks)\nlogs: %s\n", len(res.Checks), res.Logs)
	return nil
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// runCtl is `msmsgs ctl`: it sends one command to the daemon and prints
// the replies: results and events as JSON lines on stdout.
func runCtl(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("ctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, text("usage.ctl")) }
	path := fs.String("ctl", "", text("flag.ctl"))
	cfg := fs.String("config", "", text("flag.config"))
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	rest := fs.Args()
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" {
		fmt.Fprint(stdout, text("usage.ctl"))
		if len(rest) == 0 {
			return usageError{errors.New("ctl: no command")}
		}
		return nil
	}
	if _, ok := commandArity[rest[0]]; !ok {
		return usageError{errors.New(text("err.unknown-cmd", rest[0]))}
	}
	sock := *path
	if sock == "" && *cfg == "" {
		// On a device the daemon runs with the image's settings file;
		// find its socket the same way.
		if _, err := os.Stat(deviceSettings); err == nil {
			*cfg = deviceSettings
		}
	}
	if sock == "" && *cfg != "" {
		var s settings
		data, err := os.ReadFile(*cfg)
		if err == nil {
			err = s.parseSettingsFile(data)
		}
		if err != nil {
			return errors.New(text("err.config", *cfg, err))
		}
		sock = s.Ctl
		if sock == "" && s.StateDir != "" {
			sock = s.StateDir + "/ctl.sock"
		}
	}
	if sock == "" {
		sock = getenv("MSMSGS_CTL")
	}
	if sock == "" {
		sock = defaultCtl
	}
	if rest[0] == "sendfile" && len(rest) > 1 {
		// The daemon runs elsewhere: send it an absolute path.
		if abs, err := filepath.Abs(rest[len(rest)-1]); err == nil {
			rest = append(append([]string(nil), rest[:len(rest)-1]...), abs)
		}
	}
	return ctlDo(ctx, sock, rest, stdout)
}

// ctlDo sends args to the daemon at sock and copies the replies to stdout.
// It returns an error when the daemon reports one.
func ctlDo(ctx context.Context, sock string, args []string, stdout io.Writer) error {
	conn, err := dialCtl(ctx, sock, args)
	if err != nil {
		return errors.New(text("err.ctl-connect", sock, err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req, err := json.Marshal(request{Args: args})
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	if _, err := conn.Write(append(req, '\n')); err != nil {
		return fmt.Errorf("ctl: send request: %w", err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), 4<<20)
	for sc.Scan() {
		var r rawReply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("ctl: bad reply from daemon: %w", err)
		}
		if !r.OK {
			return fmt.Errorf("%s: %s", args[0], r.Error)
		}
		if len(r.Event) > 0 {
			fmt.Fprintf(stdout, "%s\n", r.Event)
			continue
		}
		if len(r.Result) > 0 && string(r.Result) != "null" {
			var s string
			if json.Unmarshal(r.Result, &s) == nil {
				fmt.Fprint(stdout, s)
			} else {
				fmt.Fprintf(stdout, "%s\n", r.Result)
			}
		}
		return nil
	}
	if ctx.Err() != nil {
		if args[0] == "events" {
			return nil // interrupted stream: normal end
		}
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("ctl: read reply: %w", err)
	}
	return errors.New("ctl: the daemon closed the connection without an answer")
}

// deviceSettings is the settings file the image carries (sysgen writes it).
const deviceSettings = "/etc/settings.json"

// dialCtl connects to the daemon's socket. The waiting commands (wait,
// wait-signin) also wait, within their -timeout, for a daemon that is
// still starting (no socket yet, or not accepting): a boot script can run
// `msmsgs ctl wait-signin` right after starting the daemon.
func dialCtl(ctx context.Context, sock string, args []string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	waiting := len(args) > 0 && (args[0] == "wait" || args[0] == "wait-signin")
	deadline := time.Now().Add(waitTimeout(args))
	for {
		conn, err := d.DialContext(ctx, "unix", sock)
		if err == nil || !waiting || time.Now().After(deadline) ||
			!(errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)) {
			return conn, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitTimeout is the -timeout of a waiting command (default 30s).
func waitTimeout(args []string) time.Duration {
	for i, a := range args {
		v, ok := strings.CutPrefix(a, "-timeout=")
		if !ok && (a == "-timeout" || a == "--timeout") && i+1 < len(args) {
			v, ok = args[i+1], true
		}
		if ok {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
	}
	return 30 * time.Second
}

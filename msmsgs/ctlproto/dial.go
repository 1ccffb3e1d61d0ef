package ctlproto

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/oemkit/messenger/msgslang"
)

// Do sends args to the daemon at sock and copies the replies to stdout:
// results and events as JSON lines, text results as they are. It returns
// an error when the daemon reports one; l gives the error texts.
func Do(ctx context.Context, sock string, args []string, stdout io.Writer, l *msgslang.Catalog) error {
	conn, err := Dial(ctx, sock, args)
	if err != nil {
		return errors.New(l.Text("err.ctl-connect", sock, dialReason(err)))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req, err := json.Marshal(Request{Args: args})
	if err != nil {
		return fmt.Errorf("ctl: %w", err)
	}
	if _, err := conn.Write(append(req, '\n')); err != nil {
		return fmt.Errorf("ctl: send request: %w", err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), 4<<20)
	for sc.Scan() {
		var r RawReply
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

// dialReason is the cause of a failed dial without the address, which the
// message names already.
func dialReason(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// Dial connects to the daemon's socket. The waiting commands (wait,
// wait-signin) also wait, within their -timeout, for a daemon that is
// still starting (no socket yet, or not accepting): a boot script can run
// `msmsgs ctl wait-signin` right after starting the daemon.
func Dial(ctx context.Context, sock string, args []string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	waiting := len(args) > 0 && (args[0] == "wait" || args[0] == "wait-signin")
	deadline := time.Now().Add(WaitTimeout(args))
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

// WaitTimeout is the -timeout of a waiting command (default 30s).
func WaitTimeout(args []string) time.Duration {
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

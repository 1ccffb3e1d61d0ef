package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// Listen listens on the control socket path, replacing a stale socket; l
// gives the error texts.
func Listen(path string, l *msgslang.Catalog) (net.Listener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, errors.New(l.Text("err.ctl-listen", path, "in use"))
		}
		_ = os.Remove(path)
	}
	// The state folder (where the socket lives by default) may not exist
	// yet on a freshly flashed device.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, errors.New(l.Text("err.ctl-listen", path, err))
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, errors.New(l.Text("err.ctl-listen", path, err))
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, errors.New(l.Text("err.ctl-listen", path, err))
	}
	return ln, nil
}

// Serve accepts control connections on ln until ctx ends.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	defer wg.Wait()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("ctl: accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			d.handle(ctx, conn)
		}()
	}
}

// handle serves one control connection: one request, its replies.
func (d *Daemon) handle(ctx context.Context, conn net.Conn) {
	br := bufio.NewReaderSize(conn, 512)
	line, err := ctlproto.ReadLine(br, ctlproto.MaxRequest)
	enc := json.NewEncoder(conn)
	if err != nil {
		_ = enc.Encode(ctlproto.Reply{Error: err.Error()})
		return
	}
	req, err := ctlproto.ParseRequest(line, d.Known, d.lang)
	if err != nil {
		_ = enc.Encode(ctlproto.Reply{Error: err.Error()})
		return
	}
	if req.Args[0] == "signin" && len(req.Args) == 2 {
		// The password is the line after the request, never an argument;
		// it comes at once with it.
		_ = conn.SetReadDeadline(time.Now().Add(passwordWait))
		pw, err := ReadPassword(br)
		_ = conn.SetReadDeadline(time.Time{})
		if err != nil {
			msg := d.lang.Text("err.signin-password")
			if errors.Is(err, ErrPasswordLong) {
				msg = d.lang.Text("err.signin-password-long", MaxPassword)
			}
			_ = enc.Encode(ctlproto.Reply{Error: msg})
			return
		}
		ctx = WithPassword(ctx, pw)
	}
	// Stop long-running requests when the ctl client goes away.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, br)
		cancel()
	}()
	result, err := d.Execute(ctx, req.Args, func(e client.Event) error {
		return enc.Encode(ctlproto.Reply{OK: true, Event: &e})
	})
	if err != nil {
		d.log.Debug("ctl: request failed", "cmd", req.Args[0], "err", err)
		_ = enc.Encode(ctlproto.Reply{Error: err.Error()})
		return
	}
	_ = enc.Encode(ctlproto.Reply{OK: true, Result: result})
}

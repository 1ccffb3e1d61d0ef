package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
	"github.com/oemkit/messenger/feature/wininet/passport"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// newLogger returns the program's logger on w.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	lvl := slog.LevelInfo
	if verbose {
		lvl = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// debianRoots is the system CA bundle used on a development host that has
// no device certificate store.
const debianRoots = "/etc/ssl/certs/ca-certificates.crt"

// certStore loads the trusted roots: the device certificate store (the
// OS design's roots) plus the extra CA file. On a host without a device
// store, the system bundle stands in for it.
func certStore(dir, caFile string) (*certs.Store, error) {
	if dir == "" {
		dir = certs.DefaultRootDir
	}
	cfg := certs.Config{RootDir: dir, ExtraCAFile: caFile}
	if _, err := os.Stat(dir); err != nil {
		if _, err := os.Stat(debianRoots); err == nil {
			cfg.RootFiles = []string{debianRoots}
		}
	}
	st, err := certs.Load(cfg)
	if err != nil {
		return nil, fmt.Errorf("msmsgs: certificate store: %w (check -ca and msmsgs.cert_dir)", err)
	}
	return st, nil
}

// newClient builds the messenger client from validated settings: Passport
// through the device HTTP client, NS/SB connections through the device
// MSN dialer (direct, SOCKS, HTTP CONNECT or the HTTP gateway).
func newClient(s *settings, log *slog.Logger, onInvite client.InviteFunc) (*client.Client, error) {
	store, err := certStore(s.CertDir, s.CAFile)
	if err != nil {
		return nil, err
	}
	wcfg := wininet.Config{Proxy: s.Proxy, Certs: store, MaxRedirects: -1}
	hc, err := wininet.NewClient(wcfg)
	if err != nil {
		return nil, errors.New(text("err.proxy", redactURL(s.Proxy), err))
	}
	md, err := wininet.NewMSNDialer(wcfg, wininet.MSNOptions{HTTPProxyMode: s.ProxyMode, GatewayURL: s.Gateway})
	if err != nil {
		return nil, errors.New(text("err.proxy", redactURL(s.Proxy), err))
	}
	pp := &passport.Client{
		HTTP:      hc,
		Nexus:     s.Nexus,
		AllowHTTP: s.InsecureHTTP,
		Logger:    log,
	}
	var st msnp.Status
	if s.Status != "" {
		st, _ = parseStatus(s.Status)
	}
	return client.New(client.Config{
		Server:       s.Server,
		Account:      s.Account,
		Password:     s.Password,
		Login:        pp.Login,
		Dial:         md.DialContext,
		Status:       st,
		Logger:       log,
		PingInterval: s.timers.ping,
		PingTimeout:  s.timers.pingTimeout,
		BackoffMin:   s.timers.backoffMin,
		BackoffMax:   s.timers.backoffMax,
		OnInvite:     onInvite,
	})
}

// redactURL hides a password in a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// runDaemon signs in and serves the control socket until ctx ends.
func runDaemon(ctx context.Context, s *settings, stderr io.Writer) error {
	log := newLogger(stderr, s.Verbose)
	ft, err := newFTManager(s, log)
	if err != nil {
		return err
	}
	cl, err := newClient(s, log, ft.onInvite)
	if err != nil {
		return err
	}
	ln, err := listenCtl(s.Ctl)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ft.start(ctx, cl)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := cl.Run(ctx); err != nil {
			log.Error(text("log.signin-failed"), "err", err)
		}
	}()
	log.Info(text("log.ctl"), "path", s.Ctl, "account", s.Account)
	err = serveCtl(ctx, ln, cl, ft, log)
	cancel()
	wg.Wait()
	ft.stop()
	_ = os.Remove(s.Ctl)
	return err
}

// listenCtl listens on the unix socket path, replacing a stale socket.
func listenCtl(path string) (net.Listener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, errors.New(text("err.ctl-listen", path, "in use"))
		}
		_ = os.Remove(path)
	}
	// The state folder (where the socket lives by default) may not exist
	// yet on a freshly flashed device.
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, errors.New(text("err.ctl-listen", path, err))
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, errors.New(text("err.ctl-listen", path, err))
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, errors.New(text("err.ctl-listen", path, err))
	}
	return ln, nil
}

// serveCtl accepts control connections until ctx ends.
func serveCtl(ctx context.Context, ln net.Listener, cl *client.Client, ft *ftManager, log *slog.Logger) error {
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
			handleCtl(ctx, conn, cl, ft, log)
		}()
	}
}

// handleCtl serves one control connection: one request, its replies.
func handleCtl(ctx context.Context, conn net.Conn, cl *client.Client, ft *ftManager, log *slog.Logger) {
	br := bufio.NewReaderSize(conn, 512)
	line, err := readLimited(br, maxRequest)
	enc := json.NewEncoder(conn)
	if err != nil {
		_ = enc.Encode(reply{Error: err.Error()})
		return
	}
	req, err := parseRequest(line)
	if err != nil {
		_ = enc.Encode(reply{Error: err.Error()})
		return
	}
	// Stop long-running requests when the ctl client goes away.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, br)
		cancel()
	}()
	result, err := execute(ctx, req.Args, cl, ft, func(e client.Event) error {
		return enc.Encode(reply{OK: true, Event: &e})
	})
	if err != nil {
		log.Debug("ctl: request failed", "cmd", req.Args[0], "err", err)
		_ = enc.Encode(reply{Error: err.Error()})
		return
	}
	_ = enc.Encode(reply{OK: true, Result: result})
}

// readLimited reads one line of at most max bytes.
func readLimited(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return nil, fmt.Errorf("ctl: read request: %w", err)
		}
		line = append(line, chunk...)
		if len(line) > max {
			return nil, fmt.Errorf("ctl: request longer than %d bytes", max)
		}
		if !isPrefix {
			return line, nil
		}
	}
}

// execute runs one control command. Streaming commands call emit per event.
func execute(ctx context.Context, args []string, cl *client.Client, ft *ftManager, emit func(client.Event) error) (any, error) {
	cmd := args[0]
	ar := commandArity[cmd]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := fs.Duration("timeout", 30*time.Second, text("flag.timeout"))
	since := fs.Int64("since", -1, text("flag.since"))
	noWait := fs.Bool("no-wait", false, text("flag.no-wait"))
	asName := fs.String("name", "", text("flag.ft-name"))
	if err := fs.Parse(args[1:]); err != nil {
		return nil, errors.New(text("err.args", cmd, ar.usage))
	}
	rest := fs.Args()
	if len(rest) < ar.min || (ar.max >= 0 && len(rest) > ar.max) {
		return nil, errors.New(text("err.args", cmd, ar.usage))
	}
	switch cmd {
	case "help":
		return text("usage.ctl"), nil
	case "wait-signin":
		wctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		if err := cl.WaitSignedIn(wctx); err != nil {
			return nil, err
		}
		return cl.Info(), nil
	case "status":
		if len(rest) == 0 {
			return cl.Info(), nil
		}
		if rest[0] != "set" || len(rest) != 2 {
			return nil, errors.New(text("err.args", cmd, ar.usage))
		}
		st, err := parseStatus(rest[1])
		if err != nil {
			return nil, err
		}
		return nil, cl.SetStatus(ctx, st)
	case "name":
		return nil, cl.SetName(ctx, strings.Join(rest, " "))
	case "contacts":
		return cl.Contacts(), nil
	case "conversations":
		return cl.Conversations(), nil
	case "add":
		return nil, cl.Add(ctx, rest[0])
	case "remove":
		return nil, cl.Remove(ctx, rest[0])
	case "block":
		return nil, cl.Block(ctx, rest[0])
	case "unblock":
		return nil, cl.Unblock(ctx, rest[0])
	case "privacy":
		switch strings.ToLower(rest[0]) {
		case "allow", "al":
			return nil, cl.SetPrivacy(ctx, msnp.PrivacyAllow)
		case "block", "bl":
			return nil, cl.SetPrivacy(ctx, msnp.PrivacyBlock)
		}
		return nil, errors.New(text("err.args", cmd, ar.usage))
	case "send":
		return nil, cl.Send(ctx, rest[0], strings.Join(rest[1:], " "))
	case "typing":
		return nil, cl.Typing(ctx, rest[0])
	case "sendto":
		return nil, cl.SendTo(ctx, rest[0], strings.Join(rest[1:], " "))
	case "invite", "leave":
		cv := cl.Conversation(rest[0])
		if cv == nil {
			return nil, errors.New(text("err.no-conv", rest[0]))
		}
		if cmd == "leave" {
			cv.Close()
			return nil, nil
		}
		return nil, cv.Invite(ctx, rest[1])
	case "sendfile":
		t, err := ft.SendFile(ctx, rest[0], rest[1], *asName)
		if err != nil {
			return nil, err
		}
		if *noWait {
			return map[string]any{"cookie": t.Cookie, "file": t.File, "size": t.Size}, nil
		}
		return ft.wait(ctx, t)
	case "accept", "reject", "cancel":
		cookie, err := parseCookie(rest[0])
		if err != nil {
			return nil, err
		}
		switch cmd {
		case "accept":
			return nil, ft.Accept(cookie)
		case "reject":
			return nil, ft.Reject(cookie)
		}
		return nil, ft.Cancel(cookie)
	case "transfers":
		return ft.list(), nil
	case "events":
		sub, hist, _ := cl.Subscribe(256)
		defer sub.Close()
		if *since >= 0 {
			for _, e := range hist {
				if e.Seq > uint64(*since) {
					if err := emit(e); err != nil {
						return nil, err
					}
				}
			}
		}
		for {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case e, ok := <-sub.C:
				if !ok {
					return nil, errors.New(text("err.lagged", cl.Info().LastSeq))
				}
				if err := emit(e); err != nil {
					return nil, err
				}
			}
		}
	case "wait":
		if err := validFilters(rest[1:]); err != nil {
			return nil, errors.New(text("err.args", cmd, ar.usage) + ": " + err.Error())
		}
		sub, hist, _ := cl.Subscribe(256)
		defer sub.Close()
		if *since >= 0 {
			for _, e := range hist {
				if e.Seq > uint64(*since) && matchEvent(e, rest[0], rest[1:]) {
					return e, nil
				}
			}
		}
		t := time.NewTimer(*timeout)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-t.C:
				return nil, errors.New(text("err.timeout", *timeout))
			case e, ok := <-sub.C:
				if !ok {
					return nil, errors.New(text("err.lagged", cl.Info().LastSeq))
				}
				if matchEvent(e, rest[0], rest[1:]) {
					return e, nil
				}
			}
		}
	}
	return nil, errors.New(text("err.unknown-cmd", cmd))
}

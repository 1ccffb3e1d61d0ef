package daemon

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Known reports whether the daemon has the command name.
func (d *Daemon) Known(name string) bool {
	if _, ok := ctlproto.Lookup(name); ok {
		return true
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.commands[name]
	return ok
}

// Execute runs one control command: args[0] is the command, the rest its
// flags and arguments. Streaming commands (events) call emit per event
// until ctx ends.
func (d *Daemon) Execute(ctx context.Context, args []string, emit func(client.Event) error) (any, error) {
	if len(args) == 0 {
		return nil, errors.New("ctl: empty request")
	}
	if res, ok, err := d.executeSIP(ctx, args); ok {
		return res, err
	}
	cl, ft, text := d.Client(), d.ft, d.lang.Text
	cmd := args[0]
	ar, builtin := ctlproto.Lookup(cmd)
	if !builtin {
		d.mu.Lock()
		c, ok := d.commands[cmd]
		d.mu.Unlock()
		if !ok {
			return nil, errors.New(text("err.unknown-cmd", cmd))
		}
		if n := len(args) - 1; n < c.Min || (c.Max >= 0 && n > c.Max) {
			return nil, errors.New(text("err.args", cmd, c.Usage))
		}
		return c.Run(ctx, args[1:], emit)
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := fs.Duration("timeout", 30*time.Second, text("flag.timeout"))
	since := fs.Int64("since", -1, text("flag.since"))
	noWait := fs.Bool("no-wait", false, text("flag.no-wait"))
	asName := fs.String("name", "", text("flag.ft-name"))
	if err := fs.Parse(args[1:]); err != nil {
		return nil, errors.New(text("err.args", cmd, ar.Usage))
	}
	rest := fs.Args()
	if len(rest) < ar.Min || (ar.Max >= 0 && len(rest) > ar.Max) {
		return nil, errors.New(text("err.args", cmd, ar.Usage))
	}
	if cl == nil && cmd != "help" && cmd != "events" && cmd != "wait" {
		// A daemon with only a SIP account: the SIP account answered
		// what it serves (executeSIP); the rest is .NET Messenger's.
		if d.AwaitsSignIn() {
			if cmd == "status" && len(rest) == 0 {
				// The window shows its sign-in form for this state.
				return client.Info{State: StateNoAccount, LastSeq: d.events.LastSeq()}, nil
			}
			return nil, errors.New(text("err.signin-first", cmd))
		}
		return nil, errors.New(text("err.no-msnp", cmd))
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
			return nil, errors.New(text("err.args", cmd, ar.Usage))
		}
		st, err := ctlproto.ParseStatus(rest[1], d.lang)
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
		return nil, errors.New(text("err.args", cmd, ar.Usage))
	case "send":
		return nil, cl.Send(ctx, rest[0], strings.Join(rest[1:], " "))
	case "typing":
		return nil, cl.Typing(ctx, rest[0])
	case "sendto":
		return nil, cl.SendTo(ctx, rest[0], strings.Join(rest[1:], " "))
	case "invite", "leave":
		cv := cl.Conversation(rest[0])
		if cv == nil {
			if cl.Info().State != client.StateSignedIn {
				// The conversations ended with the connection.
				return nil, client.ErrNotSignedIn
			}
			return nil, errors.New(text("err.no-conv", rest[0]))
		}
		if cmd == "leave" {
			d.calls.leaving(rest[0])
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
		return ft.Wait(ctx, t)
	case "accept", "reject", "cancel":
		cookie, err := ctlproto.ParseCookie(rest[0], d.lang)
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
		return ft.List(), nil
	case "events":
		sub, hist, _ := d.events.Subscribe(256)
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
					return nil, errors.New(text("err.lagged", d.events.LastSeq()))
				}
				if err := emit(e); err != nil {
					return nil, err
				}
			}
		}
	case "wait":
		if err := ctlproto.ValidFilters(rest[1:]); err != nil {
			return nil, errors.New(text("err.args", cmd, ar.Usage) + ": " + err.Error())
		}
		sub, hist, _ := d.events.Subscribe(256)
		defer sub.Close()
		if *since >= 0 {
			for _, e := range hist {
				if e.Seq > uint64(*since) && ctlproto.MatchEvent(e, rest[0], rest[1:]) {
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
					return nil, errors.New(text("err.lagged", d.events.LastSeq()))
				}
				if ctlproto.MatchEvent(e, rest[0], rest[1:]) {
					return e, nil
				}
			}
		}
	}
	return nil, errors.New(text("err.unknown-cmd", cmd))
}

package sipaccount

import (
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"time"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// Routed are the ctl commands the SIP account answers, with the forms it
// takes (a "sip:" argument selects the SIP account; alone, the account
// answers the forms without it too):
//
//	status [sip:]               the account's state (Info)
//	status set STATUS [sip:]    publish our presence
//	wait-signin [-timeout D] [sip:]
//	contacts [sip:]             watched contacts and their status
//	add sip:URI | remove sip:URI
//	send sip:URI TEXT...        an instant message
var Routed = map[string]bool{"status": true, "wait-signin": true, "contacts": true, "add": true, "remove": true, "send": true}

// Routes reports whether the SIP account answers args: a routed command
// with a "sip:" argument, or any routed command when the SIP account is
// the only one (alone).
func Routes(args []string, alone bool) bool {
	if len(args) == 0 || !Routed[args[0]] {
		return false
	}
	if alone {
		return true
	}
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "sip:") {
			return true
		}
	}
	return false
}

// Execute runs a routed ctl command (see Routed); l gives the usage and
// status texts.
func (a *Account) Execute(ctx context.Context, args []string, l *msgslang.Catalog) (any, error) {
	cmd := args[0]
	spec, _ := ctlproto.Lookup(cmd)
	usage := func() error { return errors.New(l.Text("err.args", cmd, spec.Usage)) }
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := fs.Duration("timeout", 30*time.Second, l.Text("flag.timeout"))
	if err := fs.Parse(args[1:]); err != nil {
		return nil, usage()
	}
	rest := fs.Args()
	// A bare "sip:" (or our own URI) selects the account; it is no argument.
	if n := len(rest); n > 0 && (rest[n-1] == "sip:" || rest[n-1] == a.URI()) && cmd != "send" && cmd != "add" && cmd != "remove" {
		rest = rest[:n-1]
	}
	switch cmd {
	case "status":
		switch {
		case len(rest) == 0:
			return a.Info(), nil
		case len(rest) == 2 && rest[0] == "set":
			st, err := ctlproto.ParseStatus(rest[1], l)
			if err != nil {
				return nil, err
			}
			return nil, a.SetStatus(ctx, st)
		}
	case "wait-signin":
		if len(rest) == 0 {
			wctx, cancel := context.WithTimeout(ctx, *timeout)
			defer cancel()
			if err := a.WaitSignedIn(wctx); err != nil {
				return nil, err
			}
			return a.Info(), nil
		}
	case "contacts":
		if len(rest) == 0 {
			return a.Contacts(), nil
		}
	case "add":
		if len(rest) == 1 {
			return nil, a.Add(ctx, rest[0])
		}
	case "remove":
		if len(rest) == 1 {
			return nil, a.Remove(rest[0])
		}
	case "send":
		if len(rest) >= 2 {
			return nil, a.Send(ctx, rest[0], strings.Join(rest[1:], " "))
		}
	}
	return nil, usage()
}

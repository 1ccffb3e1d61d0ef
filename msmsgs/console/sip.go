package console

import (
	"context"
	"strings"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/sipaccount"
)

// isSIP reports a console command meant for the SIP account: one with a
// sip: argument, or any when the SIP account is the daemon's only one.
func (c *console) isSIP(args []string) bool {
	if c.d.SIP() == nil {
		return false
	}
	if c.d.SIPOnly() {
		return true
	}
	for _, a := range args {
		if strings.HasPrefix(a, "sip:") {
			return true
		}
	}
	return false
}

// sipArgs turns a console command for the SIP account into the ctl
// command the daemon's SIP account parses (sipaccount.Execute, the same
// code ctl reaches); nil when cmd has no SIP form.
func sipArgs(cmd string, args []string) []string {
	var plain []string // args without the bare "sip:" selector
	for _, a := range args {
		if a != "sip:" {
			plain = append(plain, a)
		}
	}
	switch cmd {
	case "/status":
		if len(plain) == 0 {
			return []string{"status", "sip:"}
		}
		return append([]string{"status", "set"}, append(plain, "sip:")...)
	case "/list", "/contacts":
		return []string{"contacts", "sip:"}
	case "/msg":
		return append([]string{"send"}, plain...)
	case "/add":
		return append([]string{"add"}, plain...)
	case "/remove":
		return append([]string{"remove"}, plain...)
	}
	return nil
}

// doSIP runs a console command on the SIP account; it reports whether cmd
// was one.
func (c *console) doSIP(ctx context.Context, cmd string, args []string) bool {
	if !c.isSIP(args) {
		return false
	}
	ca := sipArgs(cmd, args)
	if ca == nil {
		return false
	}
	if cmd == "/msg" && len(args) > 0 {
		c.last = strings.ToLower(args[0])
	}
	res, err := c.d.Execute(ctx, ca, func(client.Event) error { return nil })
	if err != nil {
		c.p.line("con.failed", err)
		return true
	}
	c.printSIP(res)
	return true
}

func (c *console) printSIP(res any) {
	switch r := res.(type) {
	case sipaccount.Info:
		why := ""
		if r.Error != "" {
			why = " - " + r.Error
		}
		c.p.line("con.sip-status", r.Account, string(r.State), c.p.statusName(string(r.Status)), r.Server, r.Realm, why)
	case []sipaccount.Contact:
		for _, ct := range r {
			c.p.line("con.contact-line", ct.Account, c.p.statusName(string(ct.Status)), "", "")
		}
		if len(r) == 0 {
			c.p.line("con.no-contacts")
		}
	default:
		c.p.line("con.ok")
	}
}

// sendSIP sends plain text to a sip: contact in the background.
func (c *console) sendSIP(ctx context.Context, to, msg string) {
	go func() {
		if _, err := c.d.Execute(context.WithoutCancel(ctx), []string{"send", to, msg}, func(client.Event) error { return nil }); err != nil {
			c.p.line("con.failed", err)
		}
	}()
}

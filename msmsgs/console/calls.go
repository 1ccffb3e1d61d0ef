package console

import (
	"context"
	"encoding/json"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
)

// renderCall prints a voice call event; it reports whether e was one.
func renderCall(p *printer, e client.Event) bool {
	ce := e.CallEvent
	if ce == nil {
		ce = &client.CallEvent{}
	}
	switch e.Type {
	case client.EventCallOffer:
		p.line("con.call-offer", e.Account, ce.Call, ce.Call, ce.Call)
	case client.EventCallRinging:
		p.line("con.call-ringing", e.Account, ce.Call)
	case client.EventCallConnected:
		p.line("con.call-connected", ce.Call, e.Account, ce.Codec, ce.Remote, time.Duration(ce.SetupNS).Round(time.Millisecond).String())
	case client.EventCallEnded:
		p.line("con.call-ended", ce.Call, e.Account, e.Reason)
	case client.EventCallDeclined:
		p.line("con.call-declined", e.Account, e.Reason)
	case client.EventCallDTMF:
		p.line("con.call-dtmf", ce.Call, e.Account, ce.Digits)
	case client.EventCallStats:
		// Every few seconds: ctl events shows them; the console stays quiet.
	default:
		return false
	}
	return true
}

// callInfo is a row of the daemon's calls command.
type callInfo struct {
	ID, Account, Role, Phase, Codec string
	Muted                           bool
}

// doCall runs the console's voice commands through the daemon's call
// commands; it reports whether cmd was one.
func (c *console) doCall(ctx context.Context, cmd string, args []string) bool {
	name := map[string]string{"/call": "call", "/answer": "answer", "/hangup": "hangup", "/decline": "decline", "/calls": "calls"}[cmd]
	if name == "" || !c.d.Known(name) {
		return false
	}
	if name == "call" && len(args) != 1 {
		c.p.line("con.bad-args", "/call EMAIL")
		return true
	}
	if len(args) > 1 {
		c.p.line("con.bad-args", cmd+" [ID]")
		return true
	}
	res, err := c.d.Execute(ctx, append([]string{name}, args...), func(client.Event) error { return nil })
	if err != nil {
		c.p.line("con.failed", err)
		return true
	}
	if name != "calls" {
		return true // the call's events say what happens
	}
	b, _ := json.Marshal(res)
	var cs []callInfo
	_ = json.Unmarshal(b, &cs)
	for _, ci := range cs {
		muted := ""
		if ci.Muted {
			muted = c.p.lang.Text("con.call-muted")
		}
		c.p.line("con.call-line", ci.ID, ci.Phase, ci.Role, ci.Account, ci.Codec, muted)
	}
	if len(cs) == 0 {
		c.p.line("con.call-none")
	}
	return true
}

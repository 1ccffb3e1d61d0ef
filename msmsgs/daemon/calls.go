package daemon

import (
	"context"

	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// callService is the daemon's voice part: calls_rtc.go when the image's
// design has SYSGEN_RTC (build tag sysgen_rtc), calls_none.go otherwise.
type callService interface {
	// start runs with the client (Run); the returned function stops it.
	start(ctx context.Context) (stop func())
	// leaving ends the calls of conversation conv, which the user is
	// leaving, before the switchboard hears of it: the end is the user's
	// ("conversation closed"), not the peer's hang-up that would race it.
	leaving(conv string)
}

// callCommands are the voice control commands; both builds register them
// so a device without voice says why instead of "unknown command".
var callCommands = map[string]ctlproto.Spec{
	"call":    {Usage: "call EMAIL|sip:URI", Min: 1, Max: 1},
	"answer":  {Usage: "answer [ID]", Min: 0, Max: 1},
	"decline": {Usage: "decline [ID]", Min: 0, Max: 1},
	"hangup":  {Usage: "hangup [ID]", Min: 0, Max: 1},
	"dtmf":    {Usage: "dtmf ID DIGITS", Min: 2, Max: 2},
	"mute":    {Usage: "mute ID on|off", Min: 2, Max: 2},
	"calls":   {Usage: "calls", Min: 0, Max: 0},
}

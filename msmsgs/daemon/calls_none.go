//go:build !sysgen_rtc

package daemon

import (
	"context"
	"errors"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
)

// Voice reports whether this build of msmsgs carries voice calls (the
// design's SYSGEN_RTC, build tag sysgen_rtc).
const Voice = false

// noCalls is the daemon of a design without SYSGEN_RTC: the client
// declines voice invitations as not installed (REJECT_NOT_INSTALLED) and
// the call commands say that voice is not in the device's design.
type noCalls struct{}

func newCalls(d *Daemon, _ *config.Settings) (callService, error) {
	for name, spec := range callCommands {
		if err := d.Register(name, Command{Spec: spec, Run: func(context.Context, []string, func(client.Event) error) (any, error) {
			return nil, errors.New(d.lang.Text("err.voice-none"))
		}}); err != nil {
			return nil, err
		}
	}
	return noCalls{}, nil
}

func (noCalls) start(context.Context) func() { return func() {} }

func (noCalls) leaving(string) {}

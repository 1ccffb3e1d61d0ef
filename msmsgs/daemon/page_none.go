//go:build !sysgen_shdocvw

package daemon

import (
	"context"
	"errors"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
)

// addPage registers page for a design without SYSGEN_SHDOCVW: it says so
// instead of "unknown command".
func addPage(d *Daemon, _ *config.Settings) error {
	return d.Register("page", Command{Spec: pageSpec, Run: func(context.Context, []string, func(client.Event) error) (any, error) {
		return nil, errors.New(d.lang.Text("err.page-none"))
	}})
}

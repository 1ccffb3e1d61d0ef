//go:build !sysgen_imaging

package daemon

import (
	"context"
	"errors"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
)

// addPicture registers picture for a design without SYSGEN_IMAGING: it
// says so instead of "unknown command".
func addPicture(d *Daemon, _ *config.Settings) error {
	return d.Register("picture", Command{Spec: pictureSpec, Run: func(context.Context, []string, func(client.Event) error) (any, error) {
		return nil, errors.New(d.lang.Text("err.picture-none"))
	}})
}

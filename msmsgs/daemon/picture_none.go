//go:build !sysgen_imaging

package daemon

import (
	"context"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
)

// addPicture registers picture for a design without SYSGEN_IMAGING: it
// says so instead of "unknown command".
func addPicture(d *Daemon, _ *config.Settings) error {
	return d.Register("picture", Command{Spec: pictureSpec, Run: func(context.Context, []string, func(client.Event) error) (any, error) {
		return nil, notInDesign("picture", "picture decoding", "SYSGEN_IMAGING and its GIF and PNG decoders")
	}})
}

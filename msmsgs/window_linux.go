//go:build sysgen_messenger_window

package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/window"
)

// With SYSGEN_MESSENGER_WINDOW the daemon shows the Messenger window on
// the framebuffer; the window is a client of the daemon's control socket
// like msmsgs ctl. Without a framebuffer the daemon runs on without it.
func init() {
	startWindow = func(ctx context.Context, ctl string, l *msgslang.Catalog, log *slog.Logger) {
		o := window.Options{Ctl: ctl, Texts: l.Text, Log: log, Console: os.Stdout}
		fb, font, err := config.WindowSettings()
		if err != nil {
			log.Error("window settings", "err", err)
		}
		if fb != "" {
			o.FB = fb
		}
		o.Font = font
		go func() {
			if err := window.Run(ctx, o); err != nil {
				log.Error("window stopped", "err", err)
			}
		}()
	}
}

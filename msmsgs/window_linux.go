//go:build sysgen_messenger_window

package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
	msdaemon "github.com/oemkit/messenger/msmsgs/daemon"
	"github.com/oemkit/messenger/msmsgs/window"
)

// With SYSGEN_MESSENGER_WINDOW the daemon shows the Messenger window on
// the framebuffer; the window is a client of the daemon's control socket
// like msmsgs ctl. Without a framebuffer the daemon runs on without it.
// Its start page (F5) is fetched through the daemon's WinInet client.
func init() {
	startWindow = func(ctx context.Context, ctl string, s *config.Settings, l *msgslang.Catalog, log *slog.Logger) {
		o := window.Options{Ctl: ctl, Texts: l.Text, Log: log, Console: os.Stdout}
		w, err := config.WindowSettings()
		if err != nil {
			log.Error("window settings", "err", err)
		}
		if w.FB != "" {
			o.FB = w.FB
		}
		o.Font = w.Font
		o.StartPage = config.StartPageURL(s, w.StartPage)
		if o.Web, err = msdaemon.WebClient(s); err != nil {
			log.Error("window: start page client", "err", err)
		}
		go func() {
			if err := window.Run(ctx, o); err != nil {
				log.Error("window stopped", "err", err)
			}
		}()
	}
}

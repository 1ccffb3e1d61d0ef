package main

import (
	"context"
	"log/slog"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/config"
)

// startWindow starts the Messenger window beside the daemon once its
// control socket listens; it does nothing unless the image carries
// SYSGEN_MESSENGER_WINDOW (window_linux.go). s are the daemon's settings
// (the start page's proxy and certificates).
var startWindow = func(ctx context.Context, ctl string, s *config.Settings, l *msgslang.Catalog, log *slog.Logger) {}

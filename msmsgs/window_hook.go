package main

import (
	"context"
	"log/slog"

	"github.com/oemkit/messenger/msgslang"
)

// startWindow starts the Messenger window beside the daemon once its
// control socket listens; it does nothing unless the image carries
// SYSGEN_MESSENGER_WINDOW (window_linux.go).
var startWindow = func(ctx context.Context, ctl string, l *msgslang.Catalog, log *slog.Logger) {}

package daemon

import (
	"net/http"

	"github.com/oemkit/messenger/msmsgs/config"
)

// WebClient returns the HTTP client pages are fetched with outside the
// control socket (the Messenger window's start page): the same WinInet
// client as ctl page, with the device's proxy and certificate store.
func WebClient(s *config.Settings) (*http.Client, error) {
	return viewerClient(s)
}

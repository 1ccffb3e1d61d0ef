//go:build !sysgen_shdocvw

package window

import (
	"net/http"

	"golang.org/x/image/font"
)

// newPageHost, without SYSGEN_SHDOCVW: no host (the window links no
// browser code and says the browser host is not in the design).
const shdocvwInDesign = false

func newPageHost(*http.Client, int, string, font.Face) (pageHost, error) { return nil, nil }

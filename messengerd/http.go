package main

import (
	"net/http"

	"github.com/oemkit/messenger/feature/wininet/gateway"
	"github.com/oemkit/messenger/messengerd/startpage"
)

// newHTTPMux returns the mux for the plain-HTTP listener (-http): the MSN
// HTTP gateway at /gateway/gateway.dll, which clients behind HTTP proxies
// use and which bridges their polls to the MSNP server at msnpAddr (and to
// the service's other MSNP listeners, and nothing else), and /healthz.
// Passport pages are added only with -lab-http-login.
func newHTTPMux(msnpAddr string, listeners, hosts []string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.Handle(gateway.Path, &gateway.Server{NSAddr: msnpAddr, Listeners: listeners, Hosts: hosts})
	mux.Handle(startpage.Path, startpage.Handler())
	return mux
}

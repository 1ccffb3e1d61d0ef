package wininet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet/proxy"
)

// Hop names the step of a connection that failed.
type Hop string

// The hops of a connection, in order.
const (
	HopDNS     Hop = "dns"
	HopProxy   Hop = "proxy"
	HopConnect Hop = "connect"
	HopTLS     Hop = "tls"
	HopServer  Hop = "server"
)

// Sentinel errors, one per hop; a *HopError wraps the one for its hop.
var (
	ErrDNS     = errors.New("name lookup failed")
	ErrProxy   = errors.New("proxy failed")
	ErrConnect = errors.New("connection failed")
	ErrTLS     = errors.New("TLS failed")
	ErrServer  = errors.New("server error")
)

var hopErr = map[Hop]error{HopDNS: ErrDNS, HopProxy: ErrProxy, HopConnect: ErrConnect, HopTLS: ErrTLS, HopServer: ErrServer}

// HopError is a failure at one hop. Err carries the detail (a *DNSError,
// *proxy.Error, *certs.VerifyError, *StatusError or a net error).
type HopError struct {
	Hop  Hop
	Addr string // what was being reached: name, host:port or URL
	Err  error
	Hint string // what to do next, may be empty
}

func (e *HopError) Error() string {
	// Details from this module already start with their own prefix.
	msg := strings.TrimPrefix(e.Err.Error(), "wininet: ")
	msg = strings.TrimPrefix(msg, string(e.Hop)+": ")
	s := fmt.Sprintf("wininet: %s: %s", e.Hop, msg)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Unwrap returns the hop's sentinel and the detail.
func (e *HopError) Unwrap() []error { return []error{hopErr[e.Hop], e.Err} }

// StatusError is an HTTP response with a failure status.
type StatusError struct {
	URL    string
	Code   int
	Status string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s answered %s", e.URL, e.Status)
}

// CheckStatus returns nil for 1xx-3xx responses and a *HopError (HopServer,
// or HopProxy for 407) wrapping a *StatusError otherwise.
func CheckStatus(resp *http.Response) error {
	if resp.StatusCode < 400 {
		return nil
	}
	se := &StatusError{URL: redactURL(resp.Request.URL), Code: resp.StatusCode, Status: resp.Status}
	if resp.StatusCode == http.StatusProxyAuthRequired {
		return &HopError{Hop: HopProxy, Addr: se.URL, Err: errors.Join(se, proxy.ErrAuth), Hint: "check the proxy user name and password under Options > Connection"}
	}
	hint := ""
	switch {
	case resp.StatusCode >= 500:
		hint = "the server has a problem; try again later"
	case resp.StatusCode == http.StatusNotFound:
		hint = "check the server URL"
	}
	return &HopError{Hop: HopServer, Addr: se.URL, Err: se, Hint: hint}
}

func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.RawQuery = ""
	return c.String()
}

// Classify wraps an error from a dial or an http.Client call in a
// *HopError naming the hop. Errors already classified, and errors it
// does not recognise, are returned as they are.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var he *HopError
	if errors.As(err, &he) {
		return err
	}
	var de *DNSError
	var nde *net.DNSError
	var pe *proxy.Error
	var ve *certs.VerifyError
	var cve *tls.CertificateVerificationError
	var ue *url.Error
	var oe *net.OpError
	addr := ""
	if errors.As(err, &ue) {
		addr = ue.URL
	}
	switch {
	case errors.As(err, &de):
		return &HopError{Hop: HopDNS, Addr: de.Name, Err: err}
	case errors.As(err, &nde):
		return &HopError{Hop: HopDNS, Addr: nde.Name, Err: err}
	case errors.As(err, &pe):
		return &HopError{Hop: HopProxy, Addr: pe.Proxy, Err: err}
	case errors.As(err, &ve):
		return &HopError{Hop: HopTLS, Addr: ve.Host, Err: err}
	case errors.As(err, &cve):
		return &HopError{Hop: HopTLS, Addr: addr, Err: err}
	case isTLSAlert(err):
		return &HopError{Hop: HopTLS, Addr: addr, Err: err, Hint: "the server refused the TLS handshake; it may want a device certificate"}
	case errors.As(err, &oe) && oe.Op == "proxyconnect":
		return &HopError{Hop: HopProxy, Addr: addr, Err: errors.Join(err, proxy.ErrProxyDown), Hint: "check the proxy server and port under Options > Connection"}
	case errors.As(err, &oe) && oe.Op == "dial":
		return &HopError{Hop: HopConnect, Addr: addr, Err: err, Hint: "is the server running, and is its port open in the firewall?"}
	}
	return err
}

func isTLSAlert(err error) bool {
	var ae tls.AlertError
	var re tls.RecordHeaderError
	var he x509.HostnameError
	return errors.As(err, &ae) || errors.As(err, &re) || errors.As(err, &he)
}

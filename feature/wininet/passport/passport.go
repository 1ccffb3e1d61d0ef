package passport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/certs"
)

// DefaultNexus is the nexus URL of the original .NET Messenger Service.
const DefaultNexus = "https://nexus.passport.com/rdr/pprdr.asp"

// orgURL is the OrgURL MSNP8 clients send, already URL-encoded the way
// Windows Messenger encodes it (dots as %2E).
const orgURL = "http%3A%2F%2Fmessenger%2Emsn%2Ecom"

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrWrongPassword means the login server answered 401: the account
	// name or password is wrong.
	ErrWrongPassword = errors.New("passport: sign-in refused: wrong account name or password")
	// ErrUntrusted means the server's TLS certificate did not verify against
	// the trusted certificates.
	ErrUntrusted = errors.New("passport: server certificate is not trusted")
	// ErrInsecure means a plain-HTTP URL was given without AllowHTTP.
	ErrInsecure = errors.New("passport: refusing plain HTTP")
	// ErrTooManyRedirects means the login server redirected more than
	// MaxRedirects times.
	ErrTooManyRedirects = errors.New("passport: too many redirects")
	// ErrThrottled means the login server answered 429: too many wrong
	// passwords for this account from this address; the password was not
	// checked. The error says when to try again.
	ErrThrottled = errors.New("passport: sign-in paused after too many wrong passwords")
)

// Client signs in to Passport 1.4. The zero value is not usable: HTTP must be
// set (see NewHTTPClient).
type Client struct {
	// HTTP sends the requests. Its CheckRedirect is not used: Client
	// follows login redirects itself so it can resend the Authorization
	// header. Use NewHTTPClient to build one that verifies against a pool.
	HTTP *http.Client
	// Nexus is the nexus URL; empty means DefaultNexus.
	Nexus string
	// AllowHTTP permits plain-HTTP nexus and login URLs (lab use only;
	// a warning is logged). Without it such URLs are refused.
	AllowHTTP bool
	// MaxRedirects bounds login redirects; 0 means 5.
	MaxRedirects int
	// Logger receives warnings and debug lines; nil means slog.Default().
	// The password never reaches it.
	Logger *slog.Logger
}

// NewHTTPClient returns an HTTP client that verifies server certificates
// against roots (nil means the system roots) and dials with dial (nil means
// a net.Dialer). It does not follow redirects, so Client sees every 302.
func NewHTTPClient(roots *x509.CertPool, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *http.Client {
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		dial = d.DialContext
	}
	tr := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 30 * time.Second,
		MaxIdleConns:        2,
		IdleConnTimeout:     30 * time.Second,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// CertPool returns a pool holding the system roots (when system is true)
// plus every PEM certificate in files. Use it for the device store plus a
// lab CA file.
func CertPool(system bool, files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if system {
		if sp, err := x509.SystemCertPool(); err == nil {
			pool = sp
		}
	}
	for _, f := range files {
		if f == "" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("passport: read CA file: %w (check the -ca path)", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("passport: CA file %s holds no PEM certificate (it must be a PEM \"CERTIFICATE\" block)", f)
		}
	}
	return pool, nil
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

func (c *Client) checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if c.AllowHTTP {
			c.logger().Warn("passport: plain HTTP sign-in; password sent unencrypted (lab only)", "host", u.Host)
			return nil
		}
		return fmt.Errorf("%w: %s (use an https:// URL, or the lab-only plain-HTTP option)", ErrInsecure, u.Redacted())
	default:
		return fmt.Errorf("passport: unsupported URL scheme %q in %s (use https://)", u.Scheme, u.Redacted())
	}
}

// LoginURL asks the nexus for the login server (DALogin) URL.
func (c *Client) LoginURL(ctx context.Context) (string, error) {
	nexus := c.Nexus
	if nexus == "" {
		nexus = DefaultNexus
	}
	u, err := url.Parse(nexus)
	if err != nil {
		return "", fmt.Errorf("passport: nexus URL: %w", err)
	}
	if err := c.checkScheme(u); err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("passport: nexus: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("passport: nexus %s: %w", u.Host, classify(err))
	}
	drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("passport: nexus %s answered %s, want 200 (check the nexus URL)", u.Host, resp.Status)
	}
	h := resp.Header.Get("PassportURLs")
	if h == "" {
		return "", fmt.Errorf("passport: nexus %s sent no PassportURLs header (is this a Passport nexus?)", u.Host)
	}
	scheme := "https"
	if u.Scheme == "http" {
		scheme = "http" // lab: the login server follows the nexus scheme
	}
	return DALogin(h, scheme)
}

// Login signs account in with password and the challenge string from
// "USR n TWN S <challenge>", and returns the from-PP ticket.
func (c *Client) Login(ctx context.Context, account, password, challenge string) (string, error) {
	login, err := c.LoginURL(ctx)
	if err != nil {
		return "", err
	}
	return c.LoginAt(ctx, login, account, password, challenge)
}

// LoginAt is Login with a known login server URL (skips the nexus).
func (c *Client) LoginAt(ctx context.Context, loginURL, account, password, challenge string) (string, error) {
	if strings.ContainsAny(challenge, "\r\n") || strings.ContainsAny(account, "\r\n") {
		return "", errors.New("passport: account or challenge contains a line break")
	}
	auth := "Passport1.4 OrgVerb=GET,OrgURL=" + orgURL +
		",sign-in=" + escape(account) +
		",pwd=" + escape(password)
	if challenge != "" {
		auth += "," + challenge
	}
	max := c.MaxRedirects
	if max <= 0 {
		max = 5
	}
	target := loginURL
	for hop := 0; ; hop++ {
		u, err := url.Parse(target)
		if err != nil {
			return "", fmt.Errorf("passport: login URL: %w", redact(err, password))
		}
		if err := c.checkScheme(u); err != nil {
			return "", err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return "", fmt.Errorf("passport: login: %w", redact(err, password))
		}
		req.Header.Set("Authorization", auth)
		resp, err := c.HTTP.Do(req)
		if err != nil {
			return "", fmt.Errorf("passport: login %s: %w", u.Host, redact(classify(err), password))
		}
		drain(resp)
		switch resp.StatusCode {
		case http.StatusOK:
			t, err := Ticket(resp.Header.Get("Authentication-Info"))
			if err != nil {
				return "", fmt.Errorf("passport: login %s: %w", u.Host, err)
			}
			return t, nil
		case http.StatusFound, http.StatusMovedPermanently, http.StatusSeeOther, http.StatusTemporaryRedirect:
			if hop >= max {
				return "", fmt.Errorf("%w: more than %d (the login server keeps redirecting)", ErrTooManyRedirects, max)
			}
			loc := resp.Header.Get("Location")
			if loc == "" {
				return "", fmt.Errorf("passport: login %s: redirect without Location", u.Host)
			}
			next, err := u.Parse(loc)
			if err != nil {
				return "", fmt.Errorf("passport: login redirect: %w", err)
			}
			c.logger().Debug("passport: login redirected", "to", next.Redacted())
			target = next.String()
		case http.StatusUnauthorized:
			return "", fmt.Errorf("%w (check the account and password)", ErrWrongPassword)
		case http.StatusTooManyRequests:
			wait := "a minute"
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n > 0 && n < 86400 {
				wait = strconv.Itoa(n) + " s"
			}
			return "", fmt.Errorf("%w: check the password, then try again in %s", ErrThrottled, wait)
		default:
			return "", fmt.Errorf("passport: login %s answered %s, want 200, 302 or 401", u.Host, resp.Status)
		}
	}
}

// escape percent-encodes s for a Passport header value: like a query
// component, but with space as %20 ('+' would be read as a literal plus).
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// drain reads and closes a small response body so the connection can be
// reused.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// classify turns certificate failures into ErrUntrusted.
func classify(err error) error {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var ve *tls.CertificateVerificationError
	var cve *certs.VerifyError
	switch {
	case errors.As(err, &cve):
		return fmt.Errorf("%w: %v", ErrUntrusted, cve)
	case errors.As(err, &ua), errors.As(err, &ve):
		return fmt.Errorf("%w (add the issuing CA to the device certificate store, or pass it with -ca FILE): %v", ErrUntrusted, err)
	case errors.As(err, &hn):
		return fmt.Errorf("%w: certificate is for another host name: %v", ErrUntrusted, err)
	case errors.As(err, &ci):
		return fmt.Errorf("%w: %v (check the device clock and the certificate dates)", ErrUntrusted, err)
	}
	return err
}

// redactedError hides the password inside a wrapped error's text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of password (raw or URL-encoded)
// replaced by "xxxxx".
func redact(err error, password string) error {
	if err == nil || password == "" {
		return err
	}
	msg := err.Error()
	out := msg
	for _, s := range []string{password, escape(password), url.QueryEscape(password), url.PathEscape(password)} {
		if s != "" {
			out = strings.ReplaceAll(out, s, "xxxxx")
		}
	}
	if out == msg {
		return err
	}
	return &redactedError{msg: out, err: err}
}

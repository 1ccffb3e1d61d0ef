// Package passport implements the lab Passport 1.4 ("Tweener") service that
// MSNP8 clients sign in with: the nexus (/rdr/pprdr.asp) that names the login
// server, the login server (/login2.srf) that checks the account's password
// from the Authorization: Passport1.4 header and returns a ticket in
// Authentication-Info (from-PP='...'), and ticket verification for the
// notification server (USR TWN S).
//
// Tickets are HMAC-SHA256 signed with a key kept in the database, so they
// stay valid across a restart of messengerd until they expire.
package passport

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Paths served by Register.
const (
	NexusPath = "/rdr/pprdr.asp"
	LoginPath = "/login2.srf"
)

// Errors.
var (
	ErrBadTicket     = errors.New("passport: invalid ticket")
	ErrExpiredTicket = errors.New("passport: ticket expired (sign in again)")
	ErrBadHeader     = errors.New("passport: malformed Passport1.4 header")
)

// Tickets issues and verifies sign-in tickets.
type Tickets struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTickets returns a ticket issuer with the given HMAC key (at least 32
// bytes) and lifetime.
func NewTickets(key []byte, ttl time.Duration) (*Tickets, error) {
	if len(key) < 32 {
		return nil, errors.New("passport: ticket key shorter than 32 bytes")
	}
	return &Tickets{key: key, ttl: ttl, now: time.Now}, nil
}

// NewKey returns a fresh random ticket key.
func NewKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

var b64 = base64.RawURLEncoding

func (t *Tickets) mac(payload string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(payload))
	return b64.EncodeToString(m.Sum(nil))
}

// Issue returns a ticket "t=...&p=..." for account email.
func (t *Tickets) Issue(email string) string {
	nonce := make([]byte, 9)
	rand.Read(nonce)
	payload := b64.EncodeToString([]byte(email + "\n" + strconv.FormatInt(t.now().Add(t.ttl).Unix(), 10) + "\n" + b64.EncodeToString(nonce)))
	return "t=" + payload + "&p=" + t.mac(payload)
}

// Verify checks a ticket and returns the account it was issued for.
func (t *Tickets) Verify(ticket string) (string, error) {
	rest, ok := strings.CutPrefix(ticket, "t=")
	if !ok {
		return "", ErrBadTicket
	}
	payload, sig, ok := strings.Cut(rest, "&p=")
	if !ok || len(payload) > 1024 {
		return "", ErrBadTicket
	}
	if !hmac.Equal([]byte(sig), []byte(t.mac(payload))) {
		return "", ErrBadTicket
	}
	raw, err := b64.DecodeString(payload)
	if err != nil {
		return "", ErrBadTicket
	}
	parts := strings.Split(string(raw), "\n")
	if len(parts) != 3 {
		return "", ErrBadTicket
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", ErrBadTicket
	}
	if t.now().Unix() > exp {
		return "", ErrExpiredTicket
	}
	return parts[0], nil
}

// Authenticator checks an account's password and returns the normalized
// account name.
type Authenticator interface {
	CheckPassword(ctx context.Context, email, password string) (string, error)
}

// Service serves the nexus and login pages.
type Service struct {
	Auth    Authenticator
	Tickets *Tickets
	Log     *slog.Logger
	// MaxConcurrent bounds concurrent password checks (0: 16); further
	// requests wait, and get 503 when the request is cancelled first.
	MaxConcurrent int
	// Throttle delays repeated wrong passwords (see Throttle); a default
	// one when nil. Services on several listeners should share one.
	Throttle *Throttle

	sem chan struct{}
}

// Register adds the nexus and login handlers to mux.
func (s *Service) Register(mux *http.ServeMux) {
	n := s.MaxConcurrent
	if n <= 0 {
		n = 16
	}
	s.sem = make(chan struct{}, n)
	if s.Throttle == nil {
		s.Throttle = &Throttle{}
	}
	mux.HandleFunc("GET "+NexusPath, s.nexus)
	mux.HandleFunc("GET "+LoginPath, s.login)
}

// nexus names the login server on the host the client used, so guests that
// reach the service at 10.0.2.2 get a login URL they can reach.
func (s *Service) nexus(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if host == "" || strings.ContainsAny(host, ", \r\n") {
		host = "127.0.0.1"
	}
	w.Header().Set("PassportURLs", "DARealm=Passport.Net,DALogin="+host+LoginPath+
		",DAReg="+host+"/reg,Properties="+host+"/properties,Privacy="+host+"/privacy"+
		",GeneralRedir="+host+"/redir,Help="+host+"/help,ConfigVersion=11")
	w.WriteHeader(http.StatusOK)
}

// ParseAuthorization parses an "Authorization: Passport1.4 k=v,k=v" value
// and returns its fields URL-decoded (sign-in, pwd, OrgVerb, OrgURL, ...).
// Keys are case-sensitive as sent by clients.
func ParseAuthorization(v string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "Passport1.4")
	if !ok || (rest != "" && rest[0] != ' ') {
		return nil, fmt.Errorf("%w: want \"Passport1.4 ...\"", ErrBadHeader)
	}
	if len(rest) > 8192 {
		return nil, fmt.Errorf("%w: too long", ErrBadHeader)
	}
	out := map[string]string{}
	for _, f := range strings.Split(strings.TrimSpace(rest), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			// Bare flags such as "prompt" carry no value.
			out[f] = ""
			continue
		}
		dv, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: field %s: %v", ErrBadHeader, k, err)
		}
		if len(out) >= 64 {
			return nil, fmt.Errorf("%w: too many fields", ErrBadHeader)
		}
		out[k] = dv
	}
	return out, nil
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", "Passport1.4 da-status=failed,srealm=Passport.NET,ts=-3,prompt,cburl=http://"+r.Host+"/cb.gif,cbtxt=Sign%20in%20failed")
	w.WriteHeader(http.StatusUnauthorized)
}

// throttleAccount is the account name a sign-in is counted under.
func throttleAccount(signIn string) string {
	a := strings.ToLower(strings.TrimSpace(signIn))
	if len(a) > 256 {
		a = a[:256]
	}
	return a
}

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	f, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || f["sign-in"] == "" {
		s.fail(w, r)
		return
	}
	account, addr := throttleAccount(f["sign-in"]), AddrKey(r.RemoteAddr)
	if wait := s.Throttle.Check(account, addr); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		if s.Log != nil {
			s.Log.Info("passport login throttled", "account", account, "remote", r.RemoteAddr, "wait", wait)
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		http.Error(w, fmt.Sprintf("passport: too many wrong passwords for this account from your address; try again in %d s", secs), http.StatusTooManyRequests)
		return
	}
	select {
	case s.sem <- struct{}{}:
	case <-r.Context().Done():
		http.Error(w, "server busy", http.StatusServiceUnavailable)
		return
	}
	email, err := s.Auth.CheckPassword(r.Context(), f["sign-in"], f["pwd"])
	<-s.sem
	if err != nil {
		s.Throttle.Failed(account, addr)
		if s.Log != nil {
			s.Log.Info("passport login failed", "account", f["sign-in"], "remote", r.RemoteAddr)
		}
		s.fail(w, r)
		return
	}
	s.Throttle.Succeeded(account, addr)
	ticket := s.Tickets.Issue(email)
	w.Header().Set("Authentication-Info", "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,from-PP='"+
		ticket+"',ru=http://messenger.msn.com")
	w.WriteHeader(http.StatusOK)
}

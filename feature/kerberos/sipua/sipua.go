// Package sipua is the signaling and authentication layer of the SIP
// Communications Service account: a small SIP user agent over TCP that
// signs in with Kerberos ([MS-SIPAE], package sipae), registers, keeps
// the registration (and its Kerberos ticket) fresh, publishes and watches
// presence (SUBSCRIBE/NOTIFY with XPIDF documents) and sends and receives
// instant messages (SIP MESSAGE). Every request it sends after sign-in is
// signed, and every message from the server must carry a valid server
// signature.
package sipua

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipae"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
)

// Sentinel errors; returned errors wrap one of them (or one of package
// kerberos's for Kerberos failures).
var (
	ErrRejected  = errors.New("sipua: the server refused the request")
	ErrChallenge = errors.New("sipua: unusable authentication challenge")
	ErrProtocol  = errors.New("sipua: SIP protocol error")
	ErrClosed    = errors.New("sipua: connection closed")
)

// Config is one SIP account.
type Config struct {
	// URI is the account's address of record, e.g. "sip:alice@lab.test".
	URI string
	// Server is the SIP server's host:port (TCP).
	Server string
	// Kerberos says how to sign in to the realm. An empty Principal is
	// taken from the user part of URI.
	Kerberos kerberos.Config
	// Expires is the registration lifetime asked for (default 900 s). The
	// registration, with a fresh Kerberos AP-REQ, is renewed at half of
	// what the server grants; the server grants no more than the service
	// ticket has left, so when it grants under half of Expires the renewal
	// first signs in to the realm again (new TGT and service ticket):
	// tickets are renewed before they expire.
	Expires time.Duration
	// Now is the device clock (tests move it); default time.Now.
	Now func() time.Time
	// Timeout bounds each transaction (default 10 s).
	Timeout time.Duration
	// UserAgent is sent in User-Agent.
	UserAgent string
	// OnDialog receives the call requests (INVITE, ACK, BYE, CANCEL) the
	// server forwards, once their server signature is verified; it answers
	// them with Respond (see dialog.go). Nil answers 501.
	OnDialog func(ua *UA, m *sipmsg.Message)
}

// Event is something the server told us.
type Event struct {
	Type   string // "message", "presence", "registered", "error"
	From   string // the sender or presentity URI
	Text   string // the message text, or the error
	Status string // presence: online, away, busy, ... offline
}

// UA is a signed-in SIP account.
type UA struct {
	cfg    Config
	conn   net.Conn
	br     *bufio.Reader
	user   string
	domain string
	krb    *kerberos.Client
	events chan Event

	wmu sync.Mutex // serializes signing and writing

	emu      sync.Mutex // guards sending on and closing events
	evClosed bool

	mu       sync.Mutex
	sa       *sipae.SA
	pending  map[string]chan result
	sas      map[string]*sipae.SA // by opaque: the current SA and the one before
	next     *nextSA
	cseq     uint32
	regCall  string
	fromTag  string
	relogin  bool // the next registration starts with a new TGT
	asked    time.Duration
	granted  time.Duration
	closed   bool
	closeErr error
	done     chan struct{}

	timing Timing
}

// result is a response and the check of its server signature, made by
// the reader in arrival order (signatures carry increasing snum).
type result struct {
	m    *sipmsg.Message
	verr error
}

// nextSA is the context of a REGISTER with an AP-REQ in flight: the
// reader makes the SA from it when the server's signed 200 arrives, before
// it reads anything signed under the new SA.
type nextSA struct {
	tx            string
	key           types.EncryptionKey
	realm, target string
}

var errUnsigned = fmt.Errorf("%w: the server's message has no Authentication-Info", sipae.ErrSignature)

// Timing is how long the last sign-in took.
type Timing struct {
	AS       time.Duration // the AS exchange; zero when the TGT was still good
	TGS      time.Duration // the TGS exchange (or the cache) and the AP-REQ
	Register time.Duration // the two REGISTER round trips
}

// LastSignIn returns the timing of the last (re-)registration.
func (ua *UA) LastSignIn() Timing {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	return ua.timing
}

// MaxToken bounds a gssapi-data blob we send or accept.
const MaxToken = kerberos.MaxTokenSize

// Dial connects to the server, signs in to the Kerberos realm and
// registers. It returns once the server's signed 200 OK is verified.
func Dial(ctx context.Context, cfg Config) (*UA, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Expires <= 0 {
		cfg.Expires = 900 * time.Second
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "oemkit-msmsgs/1.0 (RTC SIP)"
	}
	u, d, ok := strings.Cut(strings.TrimPrefix(cfg.URI, "sip:"), "@")
	if !strings.HasPrefix(cfg.URI, "sip:") || !ok || u == "" || d == "" {
		return nil, fmt.Errorf("sipua: account URI %q: want sip:user@domain", cfg.URI)
	}
	if cfg.Kerberos.Principal == "" {
		cfg.Kerberos.Principal = u
	}
	var dl net.Dialer
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	conn, err := dl.DialContext(dctx, "tcp", cfg.Server)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("%w: cannot reach the SIP server at %s (sip.server): %v", ErrClosed, cfg.Server, err)
	}
	ua := &UA{cfg: cfg, conn: conn, br: bufio.NewReaderSize(conn, 16<<10), user: u, domain: d,
		events: make(chan Event, 256), pending: map[string]chan result{}, sas: map[string]*sipae.SA{},
		regCall: randHex(16), fromTag: randHex(5), done: make(chan struct{}), asked: cfg.Expires, granted: cfg.Expires}
	go ua.readLoop()
	if err := ua.register(ctx); err != nil {
		ua.Close()
		return nil, err
	}
	go ua.refreshLoop()
	return ua, nil
}

// Events delivers messages and presence changes. It is closed when the
// connection ends.
func (ua *UA) Events() <-chan Event { return ua.events }

// URI is the account's address of record.
func (ua *UA) URI() string { return ua.cfg.URI }

// Enctype is the Kerberos session key type the signatures use.
func (ua *UA) Enctype() int32 {
	ua.mu.Lock()
	defer ua.mu.Unlock()
	if ua.sa == nil {
		return 0
	}
	return ua.sa.Enctype()
}

// Close unregisters (best effort) and closes the connection.
func (ua *UA) Close() error {
	ua.mu.Lock()
	signed := ua.sa != nil && !ua.closed
	ua.mu.Unlock()
	if signed {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		req := ua.newRequest("REGISTER", "sip:"+ua.domain, ua.cfg.URI, ua.regCall)
		req.Set("Expires", "0")
		_, _ = ua.transact(ctx, req, true)
		cancel()
	}
	ua.shutdown(ErrClosed)
	if ua.krb != nil {
		ua.krb.Close()
	}
	return nil
}

func (ua *UA) shutdown(err error) {
	ua.mu.Lock()
	if ua.closed {
		ua.mu.Unlock()
		return
	}
	ua.closed, ua.closeErr = true, err
	close(ua.done)
	ua.mu.Unlock()
	ua.conn.Close()
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (ua *UA) newRequest(method, uri, to, callID string) *sipmsg.Message {
	ua.mu.Lock()
	ua.cseq++
	seq := ua.cseq
	ua.mu.Unlock()
	m := &sipmsg.Message{Method: method, URI: uri}
	m.Add("Via", "SIP/2.0/TCP "+ua.conn.LocalAddr().String()+";branch=z9hG4bK"+randHex(6))
	m.Add("Max-Forwards", "70")
	m.Add("From", "<"+ua.cfg.URI+">;tag="+ua.fromTag+";epid="+ua.fromTag[:6])
	m.Add("To", "<"+to+">")
	m.Add("Call-ID", callID)
	m.Add("CSeq", strconv.FormatUint(uint64(seq), 10)+" "+method)
	m.Add("User-Agent", ua.cfg.UserAgent)
	return m
}

func txKey(m *sipmsg.Message) string {
	n, method, _ := m.CSeq()
	return m.Get("Call-ID") + "\x00" + strconv.FormatUint(uint64(n), 10) + " " + method
}

// transact sends req (signed if sign) and waits for its final response.
func (ua *UA) transact(ctx context.Context, req *sipmsg.Message, sign bool) (*sipmsg.Message, error) {
	r, err := ua.transactV(ctx, req, sign)
	return r.m, err
}

func (ua *UA) transactV(ctx context.Context, req *sipmsg.Message, sign bool) (result, error) {
	ch := make(chan result, 4)
	key := txKey(req)
	ua.mu.Lock()
	if ua.closed {
		err := ua.closeErr
		ua.mu.Unlock()
		return result{}, err
	}
	ua.pending[key] = ch
	sa := ua.sa
	ua.mu.Unlock()
	defer func() { ua.mu.Lock(); delete(ua.pending, key); ua.mu.Unlock() }()
	ua.wmu.Lock()
	var err error
	if sign {
		if sa == nil {
			err = fmt.Errorf("%w: not signed in", sipae.ErrNoSA)
		} else {
			err = sa.SignRequest(req)
		}
	}
	if err == nil {
		_ = ua.conn.SetWriteDeadline(time.Now().Add(ua.cfg.Timeout))
		_, err = ua.conn.Write(req.Bytes())
	}
	ua.wmu.Unlock()
	if err != nil {
		return result{}, fmt.Errorf("%w: sending %s to %s: %v", ErrClosed, req.Method, ua.cfg.Server, err)
	}
	t := time.NewTimer(ua.cfg.Timeout)
	defer t.Stop()
	for {
		select {
		case resp := <-ch:
			if resp.m.Code < 200 {
				continue
			}
			return resp, nil
		case <-t.C:
			return result{}, fmt.Errorf("%w: no answer to %s from %s within %s", ErrProtocol, req.Method, ua.cfg.Server, ua.cfg.Timeout)
		case <-ctx.Done():
			return result{}, ctx.Err()
		case <-ua.done:
			return result{}, fmt.Errorf("%w: %s to %s: %v", ErrClosed, req.Method, ua.cfg.Server, ua.closeErr)
		}
	}
}

// warning returns the text of a Warning header (RFC 3261 section 20.43).
func warning(m *sipmsg.Message) string {
	w := m.Get("Warning")
	if i := strings.IndexByte(w, '"'); i >= 0 {
		if j := strings.LastIndexByte(w, '"'); j > i {
			return w[i+1 : j]
		}
	}
	return w
}

func rejected(req *sipmsg.Message, resp *sipmsg.Message) error {
	detail := ""
	if w := warning(resp); w != "" {
		detail = ": " + w
	}
	return fmt.Errorf("%w: %s answered %d %s%s", ErrRejected, req.Method, resp.Code, resp.Reason, detail)
}

// register runs the [MS-SIPAE] exchange: REGISTER, 401 with the Kerberos
// challenge, REGISTER with the AP-REQ, 200 with the server's signature.
func (ua *UA) register(ctx context.Context) error {
	contact := "<sip:" + ua.user + "@" + ua.conn.LocalAddr().String() + ";transport=tcp>;proxy=replace"
	expires := strconv.Itoa(int(ua.asked / time.Second))
	req := ua.newRequest("REGISTER", "sip:"+ua.domain, ua.cfg.URI, ua.regCall)
	req.Add("Contact", contact)
	req.Add("Expires", expires)
	t0 := time.Now()
	resp, err := ua.transact(ctx, req, false)
	if err != nil {
		return err
	}
	first := time.Since(t0)
	if resp.Code != 401 {
		if resp.Code == 200 {
			return fmt.Errorf("%w: the server at %s registered us without authentication; it is not a Kerberos SIP server", ErrChallenge, ua.cfg.Server)
		}
		return rejected(req, resp)
	}
	realm, target, err := ua.challenge(resp)
	if err != nil {
		return err
	}
	ua.mu.Lock()
	relogin := ua.relogin
	ua.relogin = false
	ua.mu.Unlock()
	if relogin && ua.krb != nil {
		ua.krb.Close()
		ua.krb = nil
	}
	var tm Timing
	if ua.krb == nil {
		a := time.Now()
		kc, err := kerberos.Login(ua.cfg.Kerberos)
		if err != nil {
			return err
		}
		ua.krb = kc
		tm.AS = time.Since(a)
	}
	b := time.Now()
	tok, key, err := ua.krb.InitialContext(target)
	if err != nil {
		return err
	}
	tm.TGS = time.Since(b)
	if len(tok) > MaxToken {
		return fmt.Errorf("%w: AP-REQ of %d bytes", ErrProtocol, len(tok))
	}
	req = ua.newRequest("REGISTER", "sip:"+ua.domain, ua.cfg.URI, ua.regCall)
	req.Add("Contact", contact)
	req.Add("Expires", expires)
	req.Add("Authorization", sipae.Format(sipae.AuthOrder, sipae.Params{"qop": "auth", "realm": realm, "targetname": target,
		"gssapi-data": base64.StdEncoding.EncodeToString(tok), "version": "3"}))
	c := time.Now()
	ua.mu.Lock()
	ua.next = &nextSA{tx: txKey(req), key: key, realm: realm, target: target}
	ua.mu.Unlock()
	res, err := ua.transactV(ctx, req, false)
	if err != nil {
		return err
	}
	resp = res.m
	tm.Register = time.Since(c) + first
	ua.mu.Lock()
	ua.timing = tm
	ua.mu.Unlock()
	if resp.Code != 200 {
		// The skew is measured against the clock the authenticator was
		// stamped with (gokrb5 uses the system clock).
		if kerr := errorToken(resp, time.Now()); kerr != nil {
			return fmt.Errorf("%w: REGISTER answered %d %s: %w", ErrRejected, resp.Code, resp.Reason, kerr)
		}
		return rejected(req, resp)
	}
	if res.verr != nil {
		return fmt.Errorf("the server at %s is not the holder of %s's key: %w", ua.cfg.Server, target, res.verr)
	}
	if e := resp.Get("Expires"); e != "" {
		if n, err := strconv.Atoi(e); err == nil && n > 0 {
			granted := time.Duration(n) * time.Second
			ua.mu.Lock()
			// The server grants no more than the ticket has left: when that
			// is under half of what we asked, the ticket is near its end,
			// and the next refresh signs in to the realm afresh.
			ua.relogin = granted < ua.asked/2
			ua.granted = granted
			ua.mu.Unlock()
		}
	}
	return nil
}

// challenge checks a 401 and returns the Kerberos realm and targetname,
// refusing hostile or broken challenges, and compares the server's Date
// with the device clock.
func (ua *UA) challenge(resp *sipmsg.Message) (realm, target string, err error) {
	hs := resp.GetAll("WWW-Authenticate")
	if len(hs) == 0 {
		return "", "", fmt.Errorf("%w: the server's 401 carries no WWW-Authenticate header", ErrChallenge)
	}
	var schemes []string
	for _, h := range hs {
		scheme, p, err := sipae.ParseHeader(h)
		if err != nil {
			return "", "", fmt.Errorf("%w: %v", ErrChallenge, err)
		}
		schemes = append(schemes, scheme)
		if !strings.EqualFold(scheme, sipae.Scheme) {
			continue
		}
		realm, target = p["realm"], p["targetname"]
		switch {
		case realm == "" || target == "":
			return "", "", fmt.Errorf("%w: the Kerberos challenge lacks realm or targetname", ErrChallenge)
		case len(realm) > 256 || len(target) > 256:
			return "", "", fmt.Errorf("%w: realm or targetname longer than 256 bytes", ErrChallenge)
		case !strings.HasPrefix(target, "sip/") || strings.ContainsAny(target, "@ \t\x00"):
			return "", "", fmt.Errorf("%w: targetname %q is not a sip/host service principal", ErrChallenge, target)
		}
		if v := p["version"]; v != "" && v != "3" {
			return "", "", fmt.Errorf("%w: [MS-SIPAE] version %q (this client speaks 3)", ErrChallenge, v)
		}
		if d := resp.Get("Date"); d != "" {
			if st, err := http.ParseTime(d); err == nil {
				skew := st.Sub(ua.cfg.Now())
				if skew > kerberos.MaxClockSkew+time.Second || skew < -kerberos.MaxClockSkew-time.Second {
					return "", "", fmt.Errorf("sign-in to %s: %w", ua.cfg.Server, &kerberos.SkewError{Skew: skew, Side: "SIP server"})
				}
			}
		}
		return realm, target, nil
	}
	return "", "", fmt.Errorf("%w: the server offers %s, not Kerberos", ErrChallenge, strings.Join(schemes, ", "))
}

func (ua *UA) refreshLoop() {
	for {
		ua.mu.Lock()
		every := ua.granted / 2
		ua.mu.Unlock()
		select {
		case <-ua.done:
			return
		case <-time.After(every):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*ua.cfg.Timeout)
		err := ua.register(ctx)
		cancel()
		if err != nil {
			ua.emit(Event{Type: "error", Text: "registration refresh: " + err.Error()})
		} else {
			ua.emit(Event{Type: "registered", From: ua.cfg.URI})
		}
	}
}

func (ua *UA) emit(e Event) {
	ua.emu.Lock()
	defer ua.emu.Unlock()
	if ua.evClosed {
		return
	}
	select {
	case ua.events <- e:
	default: // a reader that does not keep up loses events, not the connection
	}
}

func (ua *UA) closeEvents() {
	ua.emu.Lock()
	defer ua.emu.Unlock()
	if !ua.evClosed {
		ua.evClosed = true
		close(ua.events)
	}
}

func (ua *UA) readLoop() {
	defer ua.closeEvents()
	for {
		m, err := sipmsg.Read(ua.br, sipmsg.Limits{})
		if err != nil {
			ua.shutdown(fmt.Errorf("reading from %s: %v", ua.cfg.Server, err))
			return
		}
		verr := ua.verify(m)
		if !m.IsRequest() {
			ua.mu.Lock()
			ch := ua.pending[txKey(m)]
			ua.mu.Unlock()
			if ch != nil {
				select {
				case ch <- result{m, verr}:
				default:
				}
			}
			continue
		}
		ua.handleRequest(m, verr)
	}
}

// verify checks the server's signature on m with the SA its opaque
// names, making the new SA first when m is the 200 to a REGISTER that
// carried an AP-REQ.
func (ua *UA) verify(m *sipmsg.Message) error {
	v := m.Get("Authentication-Info")
	if v == "" {
		return errUnsigned
	}
	_, p, err := sipae.ParseHeader(v)
	if err != nil {
		return err
	}
	ua.mu.Lock()
	defer ua.mu.Unlock()
	sa := ua.sas[p["opaque"]]
	if sa == nil && ua.next != nil && !m.IsRequest() && m.Code == 200 && txKey(m) == ua.next.tx && p["opaque"] != "" {
		n := ua.next
		ua.next = nil
		nsa, err := sipae.NewSA(n.key, true, n.realm, n.target, p["opaque"])
		if err != nil {
			return err
		}
		if err := nsa.VerifyServer(m); err != nil {
			return err
		}
		if ua.sa != nil {
			for op, old := range ua.sas {
				if old != ua.sa {
					delete(ua.sas, op)
				}
			}
		}
		ua.sas[p["opaque"]], ua.sa = nsa, nsa
		return nil
	}
	if sa == nil {
		return fmt.Errorf("%w: the server signed with opaque %q, which no sign-in of ours created", sipae.ErrNoSA, p["opaque"])
	}
	return sa.VerifyServer(m)
}

// handleRequest answers a NOTIFY or MESSAGE from the server, which must be
// signed by it (verr is the check of that).
func (ua *UA) handleRequest(m *sipmsg.Message, verr error) {
	ua.mu.Lock()
	sa := ua.sa
	ua.mu.Unlock()
	reply := func(code int, reason string) {
		r := sipmsg.NewResponse(m, code, reason)
		ua.wmu.Lock()
		// Each write sets its own deadline: one left from an earlier
		// request would have passed by now and fail this write.
		_ = ua.conn.SetWriteDeadline(time.Now().Add(ua.cfg.Timeout))
		_, _ = ua.conn.Write(r.Bytes())
		ua.wmu.Unlock()
	}
	if sa == nil {
		reply(481, "No Security Association")
		return
	}
	if err := verr; err != nil {
		ua.emit(Event{Type: "error", Text: fmt.Sprintf("%s from the server dropped: %v", m.Method, err)})
		reply(403, "Signature Rejected")
		return
	}
	from := sipmsg.AddrURI(m.Get("From"))
	switch m.Method {
	case "MESSAGE":
		ua.emit(Event{Type: "message", From: from, Text: string(m.Body)})
		reply(200, "OK")
	case "NOTIFY":
		uri, status, err := ParsePresence(m.Body)
		if err != nil {
			reply(400, "Bad Presence Document")
			return
		}
		ua.emit(Event{Type: "presence", From: uri, Status: status})
		reply(200, "OK")
	case "INVITE", "ACK", "BYE", "CANCEL":
		if ua.cfg.OnDialog != nil {
			ua.cfg.OnDialog(ua, m)
		} else if m.Method != "ACK" {
			reply(501, "Not Implemented")
		}
	default:
		reply(501, "Not Implemented")
	}
}

// SetPresence publishes our status (one of Statuses) to the server, as an
// XPIDF document in a SERVICE request.
func (ua *UA) SetPresence(ctx context.Context, status string) error {
	doc, err := PresenceDoc(ua.cfg.URI, status)
	if err != nil {
		return err
	}
	req := ua.newRequest("SERVICE", ua.cfg.URI, ua.cfg.URI, randHex(8))
	req.Add("Content-Type", XPIDFType)
	req.Body = doc
	return ua.expect200(ctx, req)
}

// Subscribe watches the presence of uri; NOTIFYs arrive as events.
func (ua *UA) Subscribe(ctx context.Context, uri string) error {
	req := ua.newRequest("SUBSCRIBE", uri, uri, randHex(8))
	req.Add("Event", "presence")
	req.Add("Accept", XPIDFType)
	req.Add("Contact", "<sip:"+ua.user+"@"+ua.conn.LocalAddr().String()+";transport=tcp>")
	req.Add("Expires", "3600")
	return ua.expect200(ctx, req)
}

// MaxMessage bounds the text of one instant message.
const MaxMessage = 32 << 10

// SendMessage sends an instant message to uri.
func (ua *UA) SendMessage(ctx context.Context, uri, text string) error {
	if len(text) > MaxMessage {
		return fmt.Errorf("sipua: message of %d bytes (limit %d)", len(text), MaxMessage)
	}
	req := ua.newRequest("MESSAGE", uri, uri, randHex(8))
	req.Add("Content-Type", "text/plain; charset=UTF-8")
	req.Body = []byte(text)
	return ua.expect200(ctx, req)
}

func (ua *UA) expect200(ctx context.Context, req *sipmsg.Message) error {
	res, err := ua.transactV(ctx, req, true)
	if err != nil {
		return err
	}
	resp := res.m
	if resp.Get("Authentication-Info") == "" && resp.Code/100 != 2 {
		// An unsigned refusal (e.g. 401 after a signature the server
		// rejected): report it, trusting nothing but the failure.
		return rejected(req, resp)
	}
	if res.verr != nil {
		return fmt.Errorf("%s: the server's answer is not signed by it: %w", req.Method, res.verr)
	}
	if resp.Code/100 != 2 {
		return rejected(req, resp)
	}
	return nil
}

// errorToken returns the error a refusal's Kerberos error token (a
// KRB-ERROR in a Kerberos WWW-Authenticate's gssapi-data) reports, typed
// by its code, or nil when the refusal carries none.
func errorToken(resp *sipmsg.Message, now time.Time) error {
	for _, h := range resp.GetAll("WWW-Authenticate") {
		scheme, p, err := sipae.ParseHeader(h)
		if err != nil || !strings.EqualFold(scheme, sipae.Scheme) || p["gssapi-data"] == "" {
			continue
		}
		if len(p["gssapi-data"]) > base64.StdEncoding.EncodedLen(MaxToken) {
			return fmt.Errorf("%w: an error token larger than %d bytes", ErrProtocol, MaxToken)
		}
		b, err := base64.StdEncoding.DecodeString(p["gssapi-data"])
		if err != nil {
			return fmt.Errorf("%w: the error token is not base64", ErrProtocol)
		}
		return kerberos.ParseErrorToken(b, "SIP server", now)
	}
	return nil
}

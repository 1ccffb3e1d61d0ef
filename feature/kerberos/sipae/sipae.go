// Package sipae is the Kerberos part of [MS-SIPAE] (SIP Authentication
// Extensions) as Windows Messenger 5.x and the RTC stack used it:
//
//   - the challenge, "WWW-Authenticate: Kerberos realm=..., targetname=...,
//     version=3" with a Date header (the Kerberos example, section 4.2);
//   - the AP-REQ, base64 in the gssapi-data parameter of Authorization;
//   - the security association (SA) the server creates from it, named by
//     opaque;
//   - signed messages: the client's crand, cnum and response, the server's
//     srand, snum and rspauth, each a GSS_GetMIC token in hex over the
//     signature buffer of [MS-SIP] section 3.1.4.2 and [MS-SIPAE] sections
//     3.2.5.2 and 3.3.4.1 (Buffer).
//
// Tokens are RFC 4121 MIC tokens for AES session keys and RFC 4757 ones
// for rc4-hmac (package gss).
package sipae

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jcmturner/gokrb5/v8/types"
	"github.com/oemkit/messenger/feature/kerberos/gss"
	"github.com/oemkit/messenger/feature/kerberos/sipmsg"
)

// DefaultRealm is the realm Live Communications Server announced.
const DefaultRealm = "SIP Communications Service"

// Scheme is the auth-scheme name; it is also the first field of the
// signature buffer ("Authentication method", [MS-SIP] 3.1.4.2 item 1).
const Scheme = "Kerberos"

// Sentinel errors; returned errors wrap one of them.
var (
	ErrHeader    = errors.New("sipae: malformed authentication header")
	ErrSignature = errors.New("sipae: message signature rejected")
	ErrReplay    = errors.New("sipae: replayed message")
	ErrNoSA      = errors.New("sipae: no security association")
)

// Limits on authentication headers: a Kerberos AP-REQ with a PAC is a few
// KiB; base64 makes it 4/3 larger.
const (
	MaxHeader = 96 << 10
	MaxParams = 32
)

// Params are the auth-params of one header, names lower-cased, values
// unquoted.
type Params map[string]string

// ParseHeader parses `Scheme k=v, k="v", ...` (RFC 3261 section 25.1,
// auth-param). It refuses oversized headers, too many or repeated params,
// and unterminated quotes.
func ParseHeader(v string) (string, Params, error) {
	if len(v) > MaxHeader {
		return "", nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrHeader, len(v), MaxHeader)
	}
	v = strings.TrimSpace(v)
	sp := strings.IndexAny(v, " \t")
	if sp <= 0 {
		if v == "" {
			return "", nil, fmt.Errorf("%w: empty", ErrHeader)
		}
		return v, Params{}, nil
	}
	scheme, rest := v[:sp], v[sp:]
	p := Params{}
	for {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 {
			return "", nil, fmt.Errorf("%w: parameter without '=' in %s", ErrHeader, scheme)
		}
		name := strings.ToLower(strings.TrimSpace(rest[:eq]))
		if name == "" || strings.ContainsAny(name, " \t\",") {
			return "", nil, fmt.Errorf("%w: bad parameter name %q", ErrHeader, name)
		}
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for i < len(rest) {
				c := rest[i]
				if c == '\\' && i+1 < len(rest) {
					b.WriteByte(rest[i+1])
					i += 2
					continue
				}
				if c == '"' {
					closed = true
					i++
					break
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return "", nil, fmt.Errorf("%w: unterminated quote in %s", ErrHeader, name)
			}
			val, rest = b.String(), rest[i:]
		} else {
			end := strings.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:end]), rest[end:]
		}
		if _, dup := p[name]; dup {
			return "", nil, fmt.Errorf("%w: parameter %s given twice", ErrHeader, name)
		}
		if len(p) >= MaxParams {
			return "", nil, fmt.Errorf("%w: more than %d parameters", ErrHeader, MaxParams)
		}
		p[name] = val
		rest = strings.TrimLeft(rest, " \t")
		if rest != "" && rest[0] != ',' {
			return "", nil, fmt.Errorf("%w: junk after parameter %s", ErrHeader, name)
		}
	}
	return scheme, p, nil
}

// Format writes `Kerberos k="v", ...` with the names in order; names in
// unquoted are written without quotes (version, cnum, snum per the
// examples of [MS-SIPAE] section 4).
func Format(order []string, p Params) string {
	var b strings.Builder
	b.WriteString(Scheme)
	first := true
	for _, k := range order {
		v, ok := p[k]
		if !ok {
			continue
		}
		if first {
			b.WriteByte(' ')
		} else {
			b.WriteString(", ")
		}
		first = false
		switch k {
		case "version", "cnum", "snum":
			fmt.Fprintf(&b, "%s=%s", k, v)
		default:
			fmt.Fprintf(&b, "%s=%q", k, v)
		}
	}
	return b.String()
}

// Header parameter orders.
var (
	ChallengeOrder = []string{"realm", "targetname", "version"}
	AuthOrder      = []string{"qop", "opaque", "realm", "targetname", "gssapi-data", "crand", "cnum", "response", "version"}
	InfoOrder      = []string{"qop", "opaque", "srand", "snum", "rspauth", "targetname", "realm", "version"}
)

// Buffer returns the signature buffer of m: each value enclosed in angle
// brackets, in the order of [MS-SIP] section 3.1.4.2 (and [MS-SIPAE]
// 3.2.5.2 / 3.3.4.1):
//
//	<auth-protocol><crand|srand><cnum|snum><realm><targetname><Call-ID>
//	<CSeq number><CSeq method><From URI><From tag><To tag><Expires>
//	[<response code> for responses]
//
// Values are taken as they appear in the message; an absent Expires is
// "<>"; requests carry no response-code field at all.
func Buffer(m *sipmsg.Message, rnd, num, realm, target string) []byte {
	seq, method, _ := m.CSeq()
	from, to := m.Get("From"), m.Get("To")
	fields := []string{Scheme, rnd, num, realm, target, m.Get("Call-ID"),
		strconv.FormatUint(uint64(seq), 10), method, sipmsg.AddrURI(from),
		sipmsg.Param(from, "tag"), sipmsg.Param(to, "tag"), m.Get("Expires")}
	if !m.IsRequest() {
		fields = append(fields, strconv.Itoa(m.Code))
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteByte('<')
		b.WriteString(f)
		b.WriteByte('>')
	}
	return []byte(b.String())
}

// SA is one security association: the Kerberos context between a client
// and the server, with the sequence numbers of both directions.
type SA struct {
	Realm, Target, Opaque string
	// Peer is the authenticated client principal (server side).
	Peer string

	ctx  *gss.Context
	rand string // our crand (client) or srand (server)

	mu       sync.Mutex
	sendNum  uint32 // last cnum/snum we sent
	recvNum  uint32 // highest cnum/snum accepted from the peer
	peerRand string
}

// NewSA makes an SA from the context key. client is true on the SIP
// client (the GSS initiator).
func NewSA(key types.EncryptionKey, client bool, realm, target, opaque string) (*SA, error) {
	ctx, err := gss.New(key, client)
	if err != nil {
		return nil, err
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return nil, err
	}
	return &SA{Realm: realm, Target: target, Opaque: opaque, ctx: ctx, rand: hex.EncodeToString(r[:])}, nil
}

// Enctype is the session key's encryption type.
func (sa *SA) Enctype() int32 { return sa.ctx.Enctype() }

// Sign signs m and returns the rand and num it used and the signature
// (hex of the MIC token). The caller writes them into the header.
func (sa *SA) Sign(m *sipmsg.Message) (rnd, num, sig string, err error) {
	sa.mu.Lock()
	sa.sendNum++
	n := sa.sendNum
	sa.mu.Unlock()
	num = strconv.FormatUint(uint64(n), 10)
	tok, err := sa.ctx.GetMIC(Buffer(m, sa.rand, num, sa.Realm, sa.Target), uint64(n))
	if err != nil {
		return "", "", "", err
	}
	return sa.rand, num, hex.EncodeToString(tok), nil
}

// Verify checks the peer's signature over m. num must grow from message
// to message (a repeated or older num is a replay).
func (sa *SA) Verify(m *sipmsg.Message, rnd, num, sig string) error {
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return fmt.Errorf("%w: sequence number %q is not a number", ErrSignature, num)
	}
	tok, err := hex.DecodeString(sig)
	if err != nil || len(tok) == 0 || len(tok) > 1024 {
		return fmt.Errorf("%w: signature is not a hex GSS token", ErrSignature)
	}
	if _, err := sa.ctx.VerifyMIC(Buffer(m, rnd, num, sa.Realm, sa.Target), tok); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	sa.mu.Lock()
	defer sa.mu.Unlock()
	if uint32(n) <= sa.recvNum {
		return fmt.Errorf("%w: sequence number %d, already at %d", ErrReplay, n, sa.recvNum)
	}
	sa.recvNum = uint32(n)
	sa.peerRand = rnd
	return nil
}

// SignRequest adds the client's Authorization header to a request
// ([MS-SIPAE] 3.2.4.2: qop, opaque, realm, targetname, crand, cnum,
// response).
func (sa *SA) SignRequest(m *sipmsg.Message) error {
	m.Del("Authorization")
	rnd, num, sig, err := sa.Sign(m)
	if err != nil {
		return err
	}
	m.Add("Authorization", Format(AuthOrder, Params{"qop": "auth", "opaque": sa.Opaque, "realm": sa.Realm,
		"targetname": sa.Target, "crand": rnd, "cnum": num, "response": sig}))
	return nil
}

// SignServer adds the server's Authentication-Info header to a response
// or a server-sent request ([MS-SIPAE] 3.3.4.1: qop, opaque, srand, snum,
// rspauth, targetname, realm).
func (sa *SA) SignServer(m *sipmsg.Message) error {
	m.Del("Authentication-Info")
	rnd, num, sig, err := sa.Sign(m)
	if err != nil {
		return err
	}
	m.Add("Authentication-Info", Format(InfoOrder, Params{"qop": "auth", "opaque": sa.Opaque, "srand": rnd,
		"snum": num, "rspauth": sig, "targetname": sa.Target, "realm": sa.Realm}))
	return nil
}

// VerifyServer checks the Authentication-Info of a message from the
// server ([MS-SIPAE] 3.2.5.2). A message without one is refused.
func (sa *SA) VerifyServer(m *sipmsg.Message) error {
	v := m.Get("Authentication-Info")
	if v == "" {
		return fmt.Errorf("%w: the server's message has no Authentication-Info", ErrSignature)
	}
	scheme, p, err := ParseHeader(v)
	if err != nil {
		return err
	}
	if !strings.EqualFold(scheme, Scheme) || p["realm"] != sa.Realm || p["targetname"] != sa.Target {
		return fmt.Errorf("%w: Authentication-Info for %s realm %q target %q, not this SA", ErrNoSA, scheme, p["realm"], p["targetname"])
	}
	return sa.Verify(m, p["srand"], p["snum"], p["rspauth"])
}

// VerifyClient checks the Authorization of a request from the client
// (the server side of 3.2.4.2); p is the parsed header.
func (sa *SA) VerifyClient(m *sipmsg.Message, p Params) error {
	if p["response"] == "" || p["crand"] == "" {
		return fmt.Errorf("%w: the request has no crand/response", ErrSignature)
	}
	return sa.Verify(m, p["crand"], p["cnum"], p["response"])
}

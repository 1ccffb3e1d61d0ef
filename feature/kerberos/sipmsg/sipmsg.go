// Package sipmsg reads and writes SIP messages (RFC 3261 section 7) on a
// stream transport, keeping every header value exactly as it appeared on
// the wire: [MS-SIPAE] signatures are computed over header values "with
// the same syntax and case ... as they appear in the message" (section
// 3.2.5.2), so the values must not be re-serialized.
//
// Reading is bounded (Limits): a header block, a body and the number of
// header lines each have a ceiling, and a message that breaks one is
// refused with an error naming the limit.
package sipmsg

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Sentinel errors; returned errors wrap one of them.
var (
	ErrMalformed = errors.New("sipmsg: malformed SIP message")
	ErrTooLarge  = errors.New("sipmsg: SIP message too large")
)

// Limits bound what Read accepts.
type Limits struct {
	MaxHeaderBytes int // the start line and headers, default 128 KiB (a base64 AP-REQ fits)
	MaxHeaders     int // header lines, default 100
	MaxBody        int // default 64 KiB
}

func (l Limits) withDefaults() Limits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 128 << 10
	}
	if l.MaxHeaders <= 0 {
		l.MaxHeaders = 100
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 64 << 10
	}
	return l
}

// Header is one header line: its canonical name and its raw value.
type Header struct{ Name, Value string }

// Message is a SIP request (Method != "") or response (Code != 0).
type Message struct {
	Method, URI string // request line
	Code        int    // status line
	Reason      string
	Headers     []Header
	Body        []byte
}

// IsRequest reports whether m is a request.
func (m *Message) IsRequest() bool { return m.Method != "" }

// compact maps RFC 3261 section 7.3.3 compact forms to full names.
var compact = map[string]string{
	"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
	"c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via",
	"o": "Event", "u": "Allow-Events",
}

var canonical = map[string]string{
	"call-id": "Call-ID", "cseq": "CSeq", "www-authenticate": "WWW-Authenticate",
	"authentication-info": "Authentication-Info", "proxy-authenticate": "Proxy-Authenticate",
	"proxy-authentication-info": "Proxy-Authentication-Info",
}

// CanonicalName returns the full, conventionally cased header name.
func CanonicalName(n string) string {
	if full, ok := compact[strings.ToLower(n)]; ok && len(n) == 1 {
		return full
	}
	l := strings.ToLower(n)
	if c, ok := canonical[l]; ok {
		return c
	}
	parts := strings.Split(l, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// Get returns the first value of header name, or "".
func (m *Message) Get(name string) string {
	name = CanonicalName(name)
	for _, h := range m.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// GetAll returns every value of header name.
func (m *Message) GetAll(name string) []string {
	name = CanonicalName(name)
	var out []string
	for _, h := range m.Headers {
		if h.Name == name {
			out = append(out, h.Value)
		}
	}
	return out
}

// Add appends a header.
func (m *Message) Add(name, value string) {
	m.Headers = append(m.Headers, Header{CanonicalName(name), value})
}

// Set replaces every header name with one value.
func (m *Message) Set(name, value string) {
	m.Del(name)
	m.Add(name, value)
}

// Del removes every header name.
func (m *Message) Del(name string) {
	name = CanonicalName(name)
	out := m.Headers[:0]
	for _, h := range m.Headers {
		if h.Name != name {
			out = append(out, h)
		}
	}
	m.Headers = out
}

// Bytes serializes m, with a Content-Length that matches the body.
func (m *Message) Bytes() []byte {
	var b bytes.Buffer
	if m.IsRequest() {
		fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", m.Method, m.URI)
	} else {
		fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", m.Code, m.Reason)
	}
	for _, h := range m.Headers {
		if h.Name == "Content-Length" {
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(m.Body))
	b.Write(m.Body)
	return b.Bytes()
}

// CSeq returns the CSeq number and method.
func (m *Message) CSeq() (uint32, string, error) {
	f := strings.Fields(m.Get("CSeq"))
	if len(f) != 2 {
		return 0, "", fmt.Errorf("%w: CSeq %q", ErrMalformed, m.Get("CSeq"))
	}
	n, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("%w: CSeq %q", ErrMalformed, m.Get("CSeq"))
	}
	return uint32(n), f[1], nil
}

// NewResponse starts a response to req, copying Via, From, To, Call-ID
// and CSeq (RFC 3261 section 8.2.6.2).
func NewResponse(req *Message, code int, reason string) *Message {
	r := &Message{Code: code, Reason: reason}
	for _, h := range req.Headers {
		switch h.Name {
		case "Via", "From", "To", "Call-ID", "CSeq":
			r.Headers = append(r.Headers, h)
		}
	}
	return r
}

// Read reads one message from a stream, skipping CRLF keep-alives
// (RFC 5626 section 3.5.1).
func Read(br *bufio.Reader, lim Limits) (*Message, error) {
	lim = lim.withDefaults()
	var lines []string
	total := 0
	for {
		line, err := readLine(br, lim.MaxHeaderBytes-total)
		if err != nil {
			if errors.Is(err, io.EOF) && total == 0 && len(lines) == 0 {
				return nil, io.EOF
			}
			return nil, err
		}
		total += len(line) + 2
		if line == "" {
			if len(lines) == 0 {
				continue // keep-alive
			}
			break
		}
		if len(lines) > lim.MaxHeaders {
			return nil, fmt.Errorf("%w: more than %d header lines", ErrTooLarge, lim.MaxHeaders)
		}
		if (line[0] == ' ' || line[0] == '\t') && len(lines) > 1 {
			lines[len(lines)-1] += " " + strings.TrimSpace(line) // folded line
			continue
		}
		lines = append(lines, line)
	}
	m, err := parseHead(lines)
	if err != nil {
		return nil, err
	}
	n := 0
	if cl := m.Get("Content-Length"); cl != "" {
		v, err := strconv.Atoi(strings.TrimSpace(cl))
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%w: Content-Length %q", ErrMalformed, cl)
		}
		n = v
	}
	if n > lim.MaxBody {
		return nil, fmt.Errorf("%w: body of %d bytes (limit %d)", ErrTooLarge, n, lim.MaxBody)
	}
	if n > 0 {
		m.Body = make([]byte, n)
		if _, err := io.ReadFull(br, m.Body); err != nil {
			return nil, fmt.Errorf("%w: body cut short: %v", ErrMalformed, err)
		}
	}
	return m, nil
}

// Parse parses one complete message.
func Parse(b []byte, lim Limits) (*Message, error) {
	return Read(bufio.NewReader(bytes.NewReader(b)), lim)
}

func readLine(br *bufio.Reader, budget int) (string, error) {
	var b []byte
	for {
		frag, err := br.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > budget {
			return "", fmt.Errorf("%w: header block over the limit", ErrTooLarge)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(b) > 0 {
			return "", fmt.Errorf("%w: stream ended inside the headers", ErrMalformed)
		}
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func parseHead(lines []string) (*Message, error) {
	m := &Message{}
	start := lines[0]
	if strings.HasPrefix(start, "SIP/2.0 ") {
		f := strings.SplitN(start, " ", 3)
		code, err := strconv.Atoi(f[1])
		if len(f) < 2 || err != nil || code < 100 || code > 699 {
			return nil, fmt.Errorf("%w: status line %q", ErrMalformed, trunc(start))
		}
		m.Code = code
		if len(f) == 3 {
			m.Reason = f[2]
		}
	} else {
		f := strings.Split(start, " ")
		if len(f) != 3 || f[2] != "SIP/2.0" || f[0] == "" || f[1] == "" || strings.ToUpper(f[0]) != f[0] {
			return nil, fmt.Errorf("%w: request line %q", ErrMalformed, trunc(start))
		}
		m.Method, m.URI = f[0], f[1]
	}
	for _, l := range lines[1:] {
		i := strings.IndexByte(l, ':')
		if i <= 0 {
			return nil, fmt.Errorf("%w: header line %q", ErrMalformed, trunc(l))
		}
		name := strings.TrimSpace(l[:i])
		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%w: header name %q", ErrMalformed, trunc(name))
		}
		m.Headers = append(m.Headers, Header{CanonicalName(name), strings.TrimSpace(l[i+1:])})
	}
	for _, need := range []string{"Call-ID", "CSeq", "From", "To"} {
		if m.Get(need) == "" {
			return nil, fmt.Errorf("%w: no %s header", ErrMalformed, need)
		}
	}
	if _, _, err := m.CSeq(); err != nil {
		return nil, err
	}
	return m, nil
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// AddrURI returns the URI of a From/To/Contact value: the part inside
// <...>, or the value up to the first ';'.
func AddrURI(v string) string {
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i+1 : i+j]
		}
	}
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// Param returns header parameter name (e.g. "tag") of a From/To value,
// taken after the closing '>' when there is one.
func Param(v, name string) string {
	if i := strings.IndexByte(v, '>'); i >= 0 {
		v = v[i+1:]
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[i:]
	} else {
		return ""
	}
	for _, p := range strings.Split(v, ";") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, name) {
			return val
		}
	}
	return ""
}

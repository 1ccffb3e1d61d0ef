package msnp

import (
	"bytes"
	"fmt"
	"strings"
)

// MaxHeaders bounds the number of header fields in one message.
const MaxHeaders = 64

// Content types used by Messenger.
const (
	TypeText    = "text/plain"
	TypeControl = "text/x-msmsgscontrol" // typing notifications (TypingUser)
	TypeInvite  = "text/x-msmsgsinvite"  // file transfer, voice invitations
	TypeProfile = "text/x-msmsgsprofile" // sent by the server after sign-in
	TypeInitial = "text/x-msmsgsinitialemailnotification"
)

// DefaultFormat is the X-MMS-IM-Format header Windows Messenger sends.
const DefaultFormat = "FN=Microsoft%20Sans%20Serif; EF=; CO=0; CS=0; PF=0"

// Field is one "Key: Value" header.
type Field struct {
	Key, Value string
}

// Header is an ordered list of header fields; lookups ignore case.
type Header []Field

// Get returns the value of the first field named key (case-insensitive), or "".
func (h Header) Get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.Key, key) {
			return f.Value
		}
	}
	return ""
}

// Has reports whether a field named key is present.
func (h Header) Has(key string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Key, key) {
			return true
		}
	}
	return false
}

// Set replaces the first field named key or appends one.
func (h *Header) Set(key, value string) {
	for i, f := range *h {
		if strings.EqualFold(f.Key, key) {
			(*h)[i].Value = value
			return
		}
	}
	*h = append(*h, Field{key, value})
}

// AppendTo appends the fields as "Key: Value\r\n" lines (no blank line).
func (h Header) AppendTo(dst []byte) ([]byte, error) {
	for _, f := range h {
		if f.Key == "" || strings.ContainsAny(f.Key, ":\r\n") || strings.ContainsAny(f.Value, "\r\n") {
			return dst, fmt.Errorf("msnp: format header %q: empty key or CR/LF/colon in it", trunc(f.Key))
		}
		dst = append(dst, f.Key...)
		dst = append(dst, ": "...)
		dst = append(dst, f.Value...)
		dst = append(dst, '\r', '\n')
	}
	return dst, nil
}

// ParseHeaderBlock parses "Key: Value" lines separated by CRLF (or LF), as in
// the header of a message or the body of an invitation. Blank lines are
// skipped.
func ParseHeaderBlock(b []byte) (Header, error) {
	var h Header
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte{':'})
		key := string(bytes.TrimSpace(k))
		if !ok || key == "" {
			return nil, fmt.Errorf("%w: header line %q", ErrMalformed, trunc(string(line)))
		}
		if strings.ContainsAny(key, " \t\r") {
			return nil, fmt.Errorf("%w: header name %q", ErrMalformed, trunc(key))
		}
		if len(h) >= MaxHeaders {
			return nil, fmt.Errorf("%w: more than %d headers", ErrMalformed, MaxHeaders)
		}
		val := strings.Trim(string(v), " \t\r")
		h = append(h, Field{Key: key, Value: val})
	}
	return h, nil
}

// Message is a MIME-style MSG payload: headers, a blank line, a body.
type Message struct {
	Header Header
	Body   []byte
}

// ParseMessage parses a MSG payload. The header block must end with a blank
// line (CRLF CRLF, or LF LF).
func ParseMessage(p []byte) (*Message, error) {
	if b, ok := bytes.CutPrefix(p, []byte("\r\n")); ok {
		return &Message{Body: b}, nil // blank line first: no headers
	}
	if b, ok := bytes.CutPrefix(p, []byte("\n")); ok {
		return &Message{Body: b}, nil
	}
	hdr, body, ok := bytes.Cut(p, []byte("\r\n\r\n"))
	if !ok {
		hdr, body, ok = bytes.Cut(p, []byte("\n\n"))
		if !ok {
			return nil, fmt.Errorf("%w: message has no blank line after its headers", ErrMalformed)
		}
	}
	h, err := ParseHeaderBlock(hdr)
	if err != nil {
		return nil, err
	}
	return &Message{Header: h, Body: body}, nil
}

// Bytes formats the message as a MSG payload.
func (m *Message) Bytes() ([]byte, error) {
	b, err := m.Header.AppendTo(make([]byte, 0, 128+len(m.Body)))
	if err != nil {
		return nil, err
	}
	b = append(b, '\r', '\n')
	return append(b, m.Body...), nil
}

// ContentType returns the lower-cased media type without parameters.
func (m *Message) ContentType() string {
	ct, _, _ := strings.Cut(m.Header.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(ct))
}

// Param returns a parameter of the Content-Type header, e.g. "charset".
func (m *Message) Param(name string) string {
	_, params, _ := strings.Cut(m.Header.Get("Content-Type"), ";")
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// NewTextMessage returns a text/plain UTF-8 message with the default format.
func NewTextMessage(text string) *Message {
	return &Message{
		Header: Header{
			{"MIME-Version", "1.0"},
			{"Content-Type", "text/plain; charset=UTF-8"},
			{"X-MMS-IM-Format", DefaultFormat},
		},
		Body: []byte(text),
	}
}

// NewTypingMessage returns the text/x-msmsgscontrol typing notification for
// account email.
func NewTypingMessage(email string) *Message {
	return &Message{
		Header: Header{
			{"MIME-Version", "1.0"},
			{"Content-Type", TypeControl},
			{"TypingUser", email},
		},
		Body: []byte("\r\n"),
	}
}

// NewInviteMessage returns a text/x-msmsgsinvite message whose body holds the
// given invitation fields (Application-Name, Application-GUID,
// Invitation-Command, Invitation-Cookie, ...).
func NewInviteMessage(fields Header) (*Message, error) {
	body, err := fields.AppendTo(nil)
	if err != nil {
		return nil, err
	}
	return &Message{
		Header: Header{
			{"MIME-Version", "1.0"},
			{"Content-Type", "text/x-msmsgsinvite; charset=UTF-8"},
		},
		Body: append(body, '\r', '\n'),
	}, nil
}

// TypingUser returns the account in a typing notification, or "".
func (m *Message) TypingUser() string {
	if m.ContentType() != TypeControl {
		return ""
	}
	return m.Header.Get("TypingUser")
}

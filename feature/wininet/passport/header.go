package passport

import (
	"errors"
	"fmt"
	"strings"
)

// maxHeaderLen bounds the Passport header values this package parses.
const maxHeaderLen = 8192

// ErrMalformedHeader is returned by the header parsers for input that is not
// a comma-separated list of key=value pairs.
var ErrMalformedHeader = errors.New("passport: malformed header")

// Param is one key=value pair of a Passport header. Bare flags (such as
// "prompt" in WWW-Authenticate) have an empty Value.
type Param struct {
	Key, Value string
}

// Params is a Passport header value split into its parameters, in order.
// Keys may repeat (tname=MSPAuth,tname=MSPProf).
type Params []Param

// Get returns the value of the first parameter named key (case-insensitive)
// and whether it was present.
func (p Params) Get(key string) (string, bool) {
	for _, kv := range p {
		if strings.EqualFold(kv.Key, key) {
			return kv.Value, true
		}
	}
	return "", false
}

// ParseParams splits a Passport header value such as
// "Passport1.4 da-status=success,from-PP='t=a,b&p=c',ru=http://x" into its
// parameters. A leading "Passport1.4" scheme word is skipped. Values quoted
// with single quotes may contain commas; the quotes are removed.
func ParseParams(h string) (Params, error) {
	if len(h) > maxHeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrMalformedHeader, len(h), maxHeaderLen)
	}
	s := strings.TrimSpace(h)
	// Skip a leading scheme word ("Passport1.4 ...").
	if sp := strings.IndexAny(s, " \t"); sp > 0 && !strings.ContainsAny(s[:sp], "=,'") {
		s = strings.TrimSpace(s[sp:])
	} else if sp < 0 && !strings.ContainsAny(s, "=,'") && strings.HasPrefix(strings.ToLower(s), "passport") {
		return Params{}, nil
	}
	var out Params
	for len(s) > 0 {
		// Key up to '=' or ','.
		i := strings.IndexAny(s, "=,")
		if i < 0 {
			out = append(out, Param{Key: strings.TrimSpace(s)})
			break
		}
		key := strings.TrimSpace(s[:i])
		if key == "" {
			if s[i] == ',' {
				s = s[i+1:]
				continue
			}
			return nil, fmt.Errorf("%w: empty key", ErrMalformedHeader)
		}
		if s[i] == ',' {
			out = append(out, Param{Key: key})
			s = s[i+1:]
			continue
		}
		s = s[i+1:]
		var val string
		if strings.HasPrefix(s, "'") {
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("%w: unterminated quote after %q", ErrMalformedHeader, key)
			}
			val = s[1 : 1+end]
			s = s[end+2:]
			s = strings.TrimLeft(s, " \t")
			if len(s) > 0 {
				if s[0] != ',' {
					return nil, fmt.Errorf("%w: text after quoted value of %q", ErrMalformedHeader, key)
				}
				s = s[1:]
			}
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				val, s = s, ""
			} else {
				val, s = s[:end], s[end+1:]
			}
			val = strings.TrimSpace(val)
		}
		out = append(out, Param{Key: key, Value: val})
	}
	return out, nil
}

// String formats p back into a header value (without a scheme word).
// Values containing commas are single-quoted.
func (p Params) String() string {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv.Key)
		if kv.Value != "" {
			b.WriteByte('=')
			if strings.ContainsAny(kv.Value, ",") {
				b.WriteByte('\'')
				b.WriteString(kv.Value)
				b.WriteByte('\'')
			} else {
				b.WriteString(kv.Value)
			}
		}
	}
	return b.String()
}

// DALogin extracts the login server URL from a nexus PassportURLs header
// value. DALogin carries no scheme; the result starts with scheme + "://".
func DALogin(passportURLs, scheme string) (string, error) {
	p, err := ParseParams(passportURLs)
	if err != nil {
		return "", err
	}
	v, ok := p.Get("DALogin")
	if !ok || v == "" {
		return "", fmt.Errorf("%w: PassportURLs has no DALogin", ErrMalformedHeader)
	}
	if strings.Contains(v, "://") {
		return v, nil
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return "", fmt.Errorf("%w: DALogin contains white space", ErrMalformedHeader)
	}
	return scheme + "://" + v, nil
}

// Ticket extracts the from-PP ticket from a successful Authentication-Info
// header value. It fails unless da-status is success.
func Ticket(authInfo string) (string, error) {
	p, err := ParseParams(authInfo)
	if err != nil {
		return "", err
	}
	st, _ := p.Get("da-status")
	if !strings.EqualFold(st, "success") {
		return "", fmt.Errorf("%w: da-status %q, want success", ErrMalformedHeader, st)
	}
	t, ok := p.Get("from-PP")
	if !ok || t == "" {
		return "", fmt.Errorf("%w: Authentication-Info has no from-PP ticket", ErrMalformedHeader)
	}
	if strings.ContainsAny(t, " \t\r\n") {
		return "", fmt.Errorf("%w: ticket contains white space", ErrMalformedHeader)
	}
	return t, nil
}

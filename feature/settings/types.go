// Package settings is the device settings file: where the image carries it
// (Path, defined only here), the types a setting can have, and the one typed
// loader every device program reads it through.
//
// Each catalog item declares its settings in its feature.toml with a type, a
// default and one line of meaning:
//
//	[settings."net.tcp_keepalive_time"]
//	type = "duration"
//	default = "60s"
//	meaning = "idle time before the first TCP keepalive probe"
//
// sysgen checks every default and every osdesign.toml override against the
// declared type and writes the merged values, in the canonical form of their
// type, to one flat JSON object at Path. On the device:
//
//	f, err := settings.Load(settings.Path)
//	idle, err := f.Duration("net.tcp_keepalive_time")
//
// A key that is not in the file is an error wrapping ErrUnset; a value of
// another type is an error wrapping ErrType that names the expected type.
// The package imports no TOML code, so it costs the device binary little.
package settings

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Path is where the image carries the merged settings file.
const Path = "/etc/settings.json"

// Bounds on the settings file and on one value.
const (
	// MaxFileSize bounds the settings file.
	MaxFileSize = 1 << 20
	// MaxValueSize bounds one value: a string's bytes, or a list's strings
	// together.
	MaxValueSize = 4096
	// MaxListLen bounds the number of strings in a list.
	MaxListLen = 256
)

// Type is a setting's declared type.
type Type string

// The setting types. The canonical form is what the settings file holds.
const (
	Int       Type = "int"        // a JSON integer
	Bool      Type = "bool"       // true or false
	String    Type = "string"     // any text up to MaxValueSize bytes
	Duration  Type = "duration"   // a Go duration string, "60s", "1m30s"
	HostPort  Type = "host:port"  // "host:1863", "[::1]:1863"
	Strings   Type = "strings"    // a list of strings
	PortRange Type = "port-range" // "6891-6900" or "1863"
)

// Types lists every type, for error messages.
var Types = []Type{Int, Bool, String, Duration, HostPort, Strings, PortRange}

// ErrType is wrapped by every error about a value that does not fit its type.
var ErrType = errors.New("wrong type")

// ErrUnset is wrapped when a key is not in the settings file.
var ErrUnset = errors.New("not set")

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, k := range Types {
		if t == k {
			return true
		}
	}
	return false
}

// Want says what a value of type t looks like, for error messages.
func (t Type) Want() string {
	switch t {
	case Int:
		return "an int (a whole number like 6)"
	case Bool:
		return "a bool (true or false)"
	case String:
		return fmt.Sprintf("a string (quoted text up to %d bytes)", MaxValueSize)
	case Duration:
		return `a duration (a quoted Go duration like "60s" or "1m30s")`
	case HostPort:
		return `a host:port (a quoted "host:port" like "10.0.2.2:1863")`
	case Strings:
		return fmt.Sprintf(`a strings list (like ["a", "b"], up to %d entries)`, MaxListLen)
	case PortRange:
		return `a port-range (a quoted "low-high" like "6891-6900", or one port "1863")`
	}
	return fmt.Sprintf("one of the types %v", Types)
}

// Normalize checks v, as decoded from TOML or JSON, against t and returns
// its canonical form: int64, bool, string or []string. The error wraps
// ErrType and names the expected type.
func (t Type) Normalize(v any) (any, error) {
	bad := func(why string) error {
		if why != "" {
			why = ": " + why
		}
		return fmt.Errorf("%w: %s, want %s%s", ErrType, describe(v), t.Want(), why)
	}
	switch t {
	case Int:
		switch x := v.(type) {
		case int64:
			return x, nil
		case int:
			return int64(x), nil
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return nil, bad("")
			}
			return int64(x), nil
		}
		return nil, bad("")
	case Bool:
		if x, ok := v.(bool); ok {
			return x, nil
		}
		return nil, bad("")
	case Strings:
		var list []string
		switch x := v.(type) {
		case []string:
			list = x
		case []any:
			list = make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, bad("every entry must be a quoted string")
				}
				list = append(list, s)
			}
		default:
			return nil, bad("")
		}
		if len(list) > MaxListLen {
			return nil, bad(fmt.Sprintf("%d entries, more than %d", len(list), MaxListLen))
		}
		n := 0
		for _, s := range list {
			n += len(s)
		}
		if n > MaxValueSize {
			return nil, bad(fmt.Sprintf("%d bytes together, more than %d", n, MaxValueSize))
		}
		return append([]string{}, list...), nil
	}
	s, ok := v.(string)
	if !ok {
		if !t.Valid() {
			return nil, fmt.Errorf("%w: type %q is not a setting type: use one of %v", ErrType, string(t), Types)
		}
		return nil, bad("")
	}
	if len(s) > MaxValueSize {
		return nil, fmt.Errorf("%w: a value of %d bytes, more than the %d a setting may hold", ErrType, len(s), MaxValueSize)
	}
	var err error
	switch t {
	case String:
	case Duration:
		_, err = ParseDuration(s)
	case HostPort:
		_, _, err = ParseHostPort(s)
	case PortRange:
		_, err = ParsePortRange(s)
	default:
		return nil, fmt.Errorf("%w: type %q is not a setting type: use one of %v", ErrType, string(t), Types)
	}
	if err != nil {
		return nil, bad(err.Error())
	}
	return s, nil
}

// describe names a decoded value briefly: its kind and, when short, itself.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 40 {
			return fmt.Sprintf("a string of %d bytes", len(x))
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the bool %v", x)
	case int64, int:
		return fmt.Sprintf("the int %v", x)
	case float64:
		return fmt.Sprintf("the number %v", x)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "a table"
	case nil:
		return "null"
	}
	return fmt.Sprintf("a %T", v)
}

// ParseDuration parses a non-negative Go duration string.
func ParseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// ParseHostPort splits "host:port" and checks the port (1-65535) and that
// the host is not empty.
func ParseHostPort(s string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port", s)
	}
	if h == "" || strings.ContainsAny(h, " \t/") {
		return "", 0, fmt.Errorf("%q has no usable host", s)
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, fmt.Errorf("port %q is not 1-65535", p)
	}
	return h, n, nil
}

// Ports is a port range; a single port has Low == High.
type Ports struct{ Low, High int }

// String returns "low-high", or one port.
func (p Ports) String() string {
	if p.Low == p.High {
		return strconv.Itoa(p.Low)
	}
	return fmt.Sprintf("%d-%d", p.Low, p.High)
}

// ParsePortRange parses "low-high" or one port, 1-65535, low <= high.
func ParsePortRange(s string) (Ports, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := lo, error(nil)
	if isRange {
		hi, err2 = strconv.Atoi(b)
	}
	if err1 != nil || err2 != nil || len(s) > 11 {
		return Ports{}, fmt.Errorf("%q is not a port or low-high range", s)
	}
	if lo < 1 || hi > 65535 || lo > hi {
		return Ports{}, fmt.Errorf("%q is out of 1-65535 or reversed", s)
	}
	return Ports{lo, hi}, nil
}

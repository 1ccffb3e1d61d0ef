package feature

import (
	"errors"
	"fmt"
)

// ErrLimit is wrapped by every error about a TOML document over a limit.
var ErrLimit = errors.New("over the limit")

// Limits bound a TOML document before it is decoded, so hostile input
// (deep nesting, a long dotted key) is refused in one cheap pass instead of
// driving the decoder out of memory.
type Limits struct {
	// Size is the largest document, in bytes.
	Size int
	// Nesting is the deepest nesting of arrays and inline tables.
	Nesting int
	// KeyParts is the most parts a dotted key or table header may have.
	KeyParts int
	// KeyLen is the longest key or table header, in bytes.
	KeyLen int
}

// ManifestLimits bound a feature.toml.
var ManifestLimits = Limits{Size: MaxManifestSize, Nesting: 8, KeyParts: 8, KeyLen: 128}

// CheckTOML scans data once and reports the first limit it exceeds, with
// the line and the limit. It does not validate TOML: what it cannot follow
// it leaves to the decoder, which then sees a bounded document.
func CheckTOML(name string, data []byte, lim Limits) error {
	if len(data) > lim.Size {
		return fmt.Errorf("%s: %w: larger than the %d bytes allowed", name, ErrLimit, lim.Size)
	}
	s := scanner{data: data, lim: lim, line: 1, name: name}
	return s.document()
}

type scanner struct {
	data  []byte
	i     int
	line  int
	lim   Limits
	name  string
	stack []byte
}

func (s *scanner) errf(format string, a ...any) error {
	return fmt.Errorf("%s:%d: %w: %s", s.name, s.line, ErrLimit, fmt.Sprintf(format, a...))
}

func (s *scanner) eof() bool { return s.i >= len(s.data) }

func (s *scanner) peek() byte { return s.data[s.i] }

func (s *scanner) skipSpace() {
	for !s.eof() && (s.peek() == ' ' || s.peek() == '\t' || s.peek() == '\r') {
		s.i++
	}
}

func (s *scanner) skipLine() {
	for !s.eof() && s.peek() != '\n' {
		s.i++
	}
}

// document scans line by line: table headers, key = value, comments.
func (s *scanner) document() error {
	for !s.eof() {
		s.skipSpace()
		if s.eof() {
			return nil
		}
		switch c := s.peek(); c {
		case '\n':
			s.i++
			s.line++
		case '#':
			s.skipLine()
		case '[':
			s.i++
			if !s.eof() && s.peek() == '[' {
				s.i++
			}
			if err := s.key(']'); err != nil {
				return err
			}
			s.skipLine() // the closing brackets and any comment
		default:
			if err := s.key('='); err != nil {
				return err
			}
			if s.eof() || s.peek() != '=' {
				s.skipLine()
				continue
			}
			s.i++
			if err := s.value(); err != nil {
				return err
			}
		}
	}
	return nil
}

// key scans a dotted key up to end (not consumed), counting parts and bytes.
func (s *scanner) key(end byte) error {
	start, parts := s.i, 1
	for !s.eof() {
		switch c := s.peek(); {
		case c == end:
			return s.checkKey(start, parts)
		case c == '.':
			parts++
			if parts > s.lim.KeyParts {
				return s.errf("a dotted key or table header with more than %d parts: use fewer levels", s.lim.KeyParts)
			}
			s.i++
		case c == '"' || c == '\'':
			s.i++
			for !s.eof() && s.peek() != c && s.peek() != '\n' {
				if c == '"' && s.peek() == '\\' {
					s.i++
				}
				s.i++
				if s.i-start > s.lim.KeyLen {
					return s.errf("a key longer than %d bytes: shorten it", s.lim.KeyLen)
				}
			}
			if !s.eof() && s.peek() == c {
				s.i++
			}
		case c == '\n' || c == '#':
			return s.checkKey(start, parts)
		default:
			s.i++
		}
		if s.i-start > s.lim.KeyLen {
			return s.errf("a key longer than %d bytes: shorten it", s.lim.KeyLen)
		}
	}
	return s.checkKey(start, parts)
}

func (s *scanner) checkKey(start, parts int) error {
	if s.i-start > s.lim.KeyLen {
		return s.errf("a key longer than %d bytes: shorten it", s.lim.KeyLen)
	}
	return nil
}

// value scans one value with its nested arrays and inline tables, up to the
// end of its line (or of the last line it spans).
func (s *scanner) value() error {
	s.stack = s.stack[:0]
	for !s.eof() {
		c := s.peek()
		switch {
		case c == '\n':
			if len(s.stack) == 0 {
				return nil
			}
			s.i++
			s.line++
		case c == '#':
			s.skipLine()
		case c == '"' || c == '\'':
			s.str(c)
		case c == '[' || c == '{':
			s.stack = append(s.stack, c)
			if len(s.stack) > s.lim.Nesting {
				return s.errf("arrays or inline tables nested deeper than %d levels: flatten the value", s.lim.Nesting)
			}
			s.i++
			if c == '{' {
				if err := s.inlineKey(); err != nil {
					return err
				}
			}
		case c == ']' || c == '}':
			if len(s.stack) > 0 {
				s.stack = s.stack[:len(s.stack)-1]
			}
			s.i++
		case c == ',':
			s.i++
			if len(s.stack) > 0 && s.stack[len(s.stack)-1] == '{' {
				if err := s.inlineKey(); err != nil {
					return err
				}
			}
		default:
			s.i++
		}
	}
	return nil
}

// inlineKey scans the key of an inline table entry and its '='.
func (s *scanner) inlineKey() error {
	s.skipSpace()
	if s.eof() || s.peek() == '}' {
		return nil
	}
	if err := s.key('='); err != nil {
		return err
	}
	if !s.eof() && s.peek() == '=' {
		s.i++
	}
	return nil
}

// str skips a basic or literal string, single- or multi-line.
func (s *scanner) str(q byte) {
	multi := s.i+2 < len(s.data) && s.data[s.i+1] == q && s.data[s.i+2] == q
	if multi {
		s.i += 3
		for !s.eof() {
			c := s.peek()
			switch {
			case c == '\\' && q == '"':
				s.i++
				if !s.eof() && s.peek() == '\n' {
					s.line++
				}
			case c == '\n':
				s.line++
			case c == q && s.i+2 < len(s.data) && s.data[s.i+1] == q && s.data[s.i+2] == q:
				s.i += 3
				for !s.eof() && s.peek() == q { // up to two quotes may end the content
					s.i++
				}
				return
			}
			s.i++
		}
		return
	}
	s.i++
	for !s.eof() && s.peek() != q && s.peek() != '\n' {
		if q == '"' && s.peek() == '\\' {
			s.i++
		}
		s.i++
	}
	if !s.eof() && s.peek() == q {
		s.i++
	}
}

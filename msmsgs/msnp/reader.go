package msnp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Size bounds.
const (
	// DefaultMaxLine is the default bound on one command line, CRLF included.
	DefaultMaxLine = 4096
	// MaxClientPayload is the largest MSG payload a client may send (MSNP8).
	MaxClientPayload = 1664
	// MaxServerPayload is a generous default bound for payloads sent by a
	// server (profile messages, notifications) for clients to use.
	MaxServerPayload = 64 << 10
	// initialBuf is the starting size of a Reader's line buffer.
	initialBuf = 256
)

// Reader reads MSNP commands from a stream. It is not safe for concurrent use.
type Reader struct {
	r io.Reader
	// MaxLine bounds one command line including CRLF.
	MaxLine int
	// MaxPayload bounds the payload of one payload command.
	MaxPayload int

	buf      []byte // buffered bytes are buf[start:end]
	start    int
	end      int
	err      error // sticky read error
	released bool
}

// NewReader returns a Reader with MaxLine DefaultMaxLine and MaxPayload
// MaxClientPayload (the bound a server applies to what clients send).
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, MaxLine: DefaultMaxLine, MaxPayload: MaxClientPayload}
}

// Buffered returns the number of bytes read from the stream but not yet
// returned as commands.
func (r *Reader) Buffered() int { return r.end - r.start }

var smallBufs = sync.Pool{New: func() any { b := make([]byte, initialBuf); return &b }}

// Release drops the reader's buffer when it holds no unread data, so an idle
// connection holds no buffer between commands; the next read takes one again.
func (r *Reader) Release() {
	if r.start == r.end && r.buf != nil {
		if len(r.buf) == initialBuf {
			b := r.buf
			smallBufs.Put(&b)
		}
		r.buf, r.start, r.end = nil, 0, 0
	}
}

// fill reads more bytes, growing the buffer up to limit bytes of unread data.
func (r *Reader) fill(limit int) error {
	if r.err != nil {
		if r.end > r.start {
			return unexpected(r.err)
		}
		return r.err
	}
	if r.buf == nil {
		r.buf = *(smallBufs.Get().(*[]byte))
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.start, r.end = 0, n
	}
	if r.end == len(r.buf) {
		if len(r.buf) >= limit {
			return ErrLineTooLong
		}
		nb := make([]byte, min(2*len(r.buf), limit))
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	n, err := r.r.Read(r.buf[r.end:])
	r.end += n
	if err != nil {
		r.err = err
		if n > 0 {
			return nil
		}
		if r.end > r.start {
			return unexpected(err)
		}
		return err
	}
	return nil
}

// Wait blocks until the reader has buffered input (or the stream fails). A
// server can wait in Wait with a small stack and parse and handle the
// command elsewhere.
//
//go:noinline
func (r *Reader) Wait() error {
	if r.end > r.start {
		return nil
	}
	max := r.MaxLine
	if max <= 0 {
		max = DefaultMaxLine
	}
	return r.fill(max)
}

// ReadLine reads one line and returns it without its line ending. The
// returned slice is valid until the next call.
func (r *Reader) ReadLine() ([]byte, error) {
	max := r.MaxLine
	if max <= 0 {
		max = DefaultMaxLine
	}
	scanned := 0
	for {
		if i := bytes.IndexByte(r.buf[r.start+scanned:r.end], '\n'); i >= 0 {
			line := r.buf[r.start : r.start+scanned+i+1]
			if len(line) > max {
				return nil, fmt.Errorf("%w (%d bytes, limit %d)", ErrLineTooLong, len(line), max)
			}
			r.start += len(line)
			line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
			return line, nil
		}
		scanned = r.end - r.start
		if scanned >= max {
			return nil, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, max)
		}
		if err := r.fill(max); err != nil {
			if errors.Is(err, ErrLineTooLong) {
				return nil, fmt.Errorf("%w (over %d bytes)", ErrLineTooLong, max)
			}
			return nil, err
		}
	}
}

// ReadCommand reads one command and, for a payload command, its payload.
// Errors wrapping ErrMalformed, ErrLineTooLong or ErrPayloadTooLarge mean the
// peer broke the protocol; the caller should close the connection.
func (r *Reader) ReadCommand() (Command, error) {
	line, err := r.ReadLine()
	if err != nil {
		return Command{}, err
	}
	c, plen, err := parseLine(string(line))
	if err != nil {
		return Command{}, err
	}
	if plen < 0 {
		return c, nil
	}
	maxp := r.MaxPayload
	if maxp <= 0 {
		maxp = MaxClientPayload
	}
	if plen > maxp {
		return Command{}, fmt.Errorf("%w: %s payload of %d bytes, limit %d", ErrPayloadTooLarge, c.Name, plen, maxp)
	}
	p := make([]byte, plen)
	n := copy(p, r.buf[r.start:r.end])
	r.start += n
	if n < plen {
		if r.err != nil {
			return Command{}, unexpected(r.err)
		}
		if _, err := io.ReadFull(r.r, p[n:]); err != nil {
			r.err = err
			return Command{}, unexpected(err)
		}
	}
	c.Payload = p
	return c, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

package msnftp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
)

// MSNFTP wire constants.
const (
	// MaxBlock is the largest data block payload Windows Messenger sends.
	MaxBlock = 2045
	// ByeReceived is the BYE code of a completely received file.
	ByeReceived = 16777989
	// ByeNoDiskSpace is the BYE code of a receiver that ran out of disk space.
	ByeNoDiskSpace = 2147942405
	// MaxLine bounds one MSNFTP command line.
	MaxLine = 1024
)

// Sentinel errors callers branch on; all returned errors wrap one of these
// or a network/file error.
var (
	// ErrProtocol: the peer broke the MSNFTP protocol.
	ErrProtocol = errors.New("msnftp protocol error")
	// ErrCancelled: the peer cancelled the transfer (CCL or cancel block).
	ErrCancelled = errors.New("transfer cancelled by peer")
	// ErrAuth: the receiver presented a wrong AuthCookie.
	ErrAuth = errors.New("wrong auth cookie")
)

// readLine reads one CRLF (or LF) terminated line of at most MaxLine bytes
// and returns it without the terminator.
func readLine(r *bufio.Reader) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > MaxLine {
			return "", fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, MaxLine)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return "", fmt.Errorf("%w: connection closed inside a line", ErrProtocol)
		}
		return "", err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return string(line), nil
}

// blockDecoder turns the sender's block stream into file bytes. It is fed
// arbitrary chunks of the stream and compacts the payload in place.
type blockDecoder struct {
	remaining int64   // file bytes still expected
	inBlock   int     // payload bytes left in the current block
	hdr       [3]byte // partial block header
	hdrN      int
}

// decode consumes p and appends the payload parts of p to segs. It
// returns ErrCancelled on a sender cancel block and ErrProtocol on a
// malformed header or a block beyond the announced size. Bytes after the
// last expected payload byte are ignored.
func (d *blockDecoder) decode(p []byte, segs [][]byte) ([][]byte, int, error) {
	w, i := 0, 0
	for i < len(p) && d.remaining > 0 {
		if d.inBlock == 0 {
			d.hdr[d.hdrN] = p[i]
			d.hdrN++
			i++
			if d.hdrN < 3 {
				continue
			}
			d.hdrN = 0
			switch d.hdr[0] {
			case 0:
			case 1:
				return segs, w, ErrCancelled
			default:
				return segs, w, fmt.Errorf("%w: block header starts with %d, want 0 or 1", ErrProtocol, d.hdr[0])
			}
			n := int(d.hdr[1]) | int(d.hdr[2])<<8
			if int64(n) > d.remaining {
				return segs, w, fmt.Errorf("%w: block of %d bytes with only %d bytes of the file left", ErrProtocol, n, d.remaining)
			}
			d.inBlock = n
			continue
		}
		k := min(d.inBlock, len(p)-i)
		segs = append(segs, p[i:i+k])
		w += k
		i += k
		d.inBlock -= k
		d.remaining -= int64(k)
	}
	return segs, w, nil
}

// copyBlocks reads the block stream from r and writes size file bytes to w
// (one writev per buffer when w is a file). Reading and decoding run in a
// second goroutine so that socket reads overlap file writes; the two
// share len(bufs) buffers, the only data memory used. progress, if not
// nil, is called after each write with the running total.
func copyBlocks(w io.Writer, r io.Reader, size int64, bufs [][]byte, progress func(int64)) (int64, error) {
	return copyBlocksGrow(w, r, size, bufs, nil, progress)
}

// copyBlocksGrow is copyBlocks that calls grow, if not nil, with the end
// offset of each write before it is written (the receiver reserves disk
// space as data arrives).
func copyBlocksGrow(w io.Writer, r io.Reader, size int64, bufs [][]byte, grow func(end int64) error, progress func(int64)) (int64, error) {
	type chunk struct {
		buf  []byte
		segs [][]byte
		m    int
		err  error
	}
	free := make(chan chunk, len(bufs))
	for _, b := range bufs {
		free <- chunk{buf: b}
	}
	full := make(chan chunk, len(bufs))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(full)
		d := blockDecoder{remaining: size}
		var done int64
		for d.remaining > 0 {
			var c chunk
			select {
			case c = <-free:
			case <-stop:
				return
			}
			n, rerr := r.Read(c.buf)
			c.segs, c.m, c.err = d.decode(c.buf[:n], c.segs[:0])
			done += int64(c.m)
			if c.err == nil && rerr != nil && d.remaining > 0 {
				c.err = rerr
				if errors.Is(rerr, io.EOF) {
					c.err = fmt.Errorf("%w: connection closed after %d of %d bytes", ErrProtocol, done, size)
				}
			}
			full <- c
			if c.err != nil {
				return
			}
		}
	}()
	sw := &segmentWriter{w: w}
	var done int64
	for c := range full {
		if c.m > 0 {
			if grow != nil {
				if err := grow(done + int64(c.m)); err != nil {
					return done, err
				}
			}
			if err := sw.write(c.segs); err != nil {
				return done, err
			}
			done += int64(c.m)
			if progress != nil {
				progress(done)
			}
		}
		if c.err != nil {
			return done, c.err
		}
		free <- c
	}
	return done, nil
}

// blockEncoder frames file bytes into blocks of at most MaxBlock bytes.
// The blocks go out with one writev: headers and payloads are separate
// buffers, so file bytes are copied only by read(2) and write(2).
type blockEncoder struct {
	data []byte      // staging buffer for file bytes, a multiple of MaxBlock
	hdrs []byte      // 3 header bytes per block
	iov  [][]byte    // backing array of the buffers handed to writev
	bufs net.Buffers // the current batch (consumed by WriteTo)
}

func newBlockEncoder(blocks int) *blockEncoder {
	return &blockEncoder{
		hdrs: make([]byte, blocks*3),
		iov:  make([][]byte, 0, 2*blocks),
	}
}

// frame reads up to len(e.data) bytes (at most max) from r and returns them
// framed as blocks, valid until the next call. It returns
// io.ErrUnexpectedEOF if r ends early.
func (e *blockEncoder) frame(r io.Reader, max int64) (*net.Buffers, int, error) {
	if e.data == nil { // only the read path needs it, not a mapped file
		e.data = make([]byte, len(e.hdrs)/3*MaxBlock)
	}
	n := int(min(int64(len(e.data)), max))
	if _, err := io.ReadFull(r, e.data[:n]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	return e.frameSlice(e.data[:n]), n, nil
}

// frameSlice frames data (at most one block per header slot) without
// copying it.
func (e *blockEncoder) frameSlice(data []byte) *net.Buffers {
	iov := e.iov[:0]
	for i, b := 0, 0; i < len(data); i, b = i+MaxBlock, b+3 {
		k := min(MaxBlock, len(data)-i)
		h := e.hdrs[b : b+3]
		h[0], h[1], h[2] = 0, byte(k), byte(k>>8)
		iov = append(iov, h, data[i:i+k])
	}
	e.bufs = iov
	return &e.bufs
}

// cancelBlock is the header a sender transmits to cancel.
var cancelBlock = []byte{1, 0, 0}

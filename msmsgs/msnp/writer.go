package msnp

import (
	"io"
	"sync"
)

// Writer writes MSNP commands, each with one Write call on the underlying
// writer. It is safe for concurrent use and keeps no buffer between writes,
// so idle connections cost nothing here.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Write formats c and writes it.
func (w *Writer) Write(c Command) error {
	bp := writeBufs.Get().(*[]byte)
	b, err := AppendCommand((*bp)[:0], c)
	if err == nil {
		w.mu.Lock()
		_, err = w.w.Write(b)
		w.mu.Unlock()
	}
	if cap(b) <= 4096 {
		*bp = b[:0]
		writeBufs.Put(bp)
	}
	return err
}

// WriteRaw writes preformatted bytes (for example a command built once with
// AppendCommand and sent to many connections).
func (w *Writer) WriteRaw(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.w.Write(b)
	return err
}

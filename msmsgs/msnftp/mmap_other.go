//go:build !linux

package msnftp

import "io"

// mappedFile is Linux-only; elsewhere the sender reads the file.
type mappedFile struct{}

func mapFile(r io.Reader, need int64) *mappedFile { return nil }
func (m *mappedFile) next(n int) ([]byte, error)  { return nil, io.ErrUnexpectedEOF }
func (m *mappedFile) close()                      {}

// segmentWriter writes segments one Write each.
type segmentWriter struct{ w io.Writer }

func (sw *segmentWriter) write(segs [][]byte) error {
	for _, s := range segs {
		if _, err := sw.w.Write(s); err != nil {
			return err
		}
	}
	return nil
}

package msnftp

import (
	"io"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapWindow is the largest file region mapped at once; the mapping is
// replaced as the transfer moves on, so memory stays flat.
const mapWindow = 2 << 20

// iovMax is the most buffers one writev takes (IOV_MAX on Linux).
const iovMax = 1024

// mappedFile lets the sender hand pages of a regular file straight to
// writev, saving the copy of read(2). Only the kernel touches the
// mapping: if the file shrinks meanwhile, writev fails with EFAULT
// instead of the process faulting.
type mappedFile struct {
	f    *os.File
	off  int64 // next file offset to send
	size int64 // file size when the transfer started
	m    []byte
	mOff int64 // file offset of m[0]
}

// mapFile returns a mappedFile for r if it is a regular *os.File with at
// least need bytes from its current offset, else nil.
func mapFile(r io.Reader, need int64) *mappedFile {
	f, ok := r.(*os.File)
	if !ok {
		return nil
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || st.Size()-off < need {
		return nil
	}
	return &mappedFile{f: f, off: off, size: st.Size()}
}

// next returns the next n bytes of the file (n <= mapWindow/2).
func (m *mappedFile) next(n int) ([]byte, error) {
	end := m.off + int64(n)
	if m.m == nil || m.off < m.mOff || end > m.mOff+int64(len(m.m)) {
		m.unmap()
		start := m.off &^ int64(os.Getpagesize()-1)
		length := min(int64(mapWindow), m.size-start)
		if end-start > length {
			return nil, io.ErrUnexpectedEOF
		}
		b, err := unix.Mmap(int(m.f.Fd()), start, int(length), unix.PROT_READ, unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return nil, err
		}
		unix.Madvise(b, unix.MADV_SEQUENTIAL)
		m.m, m.mOff = b, start
	}
	p := m.m[m.off-m.mOff : end-m.mOff]
	m.off = end
	return p, nil
}

func (m *mappedFile) unmap() {
	if m.m != nil {
		unix.Munmap(m.m)
		m.m = nil
	}
}

// close unmaps and leaves the file offset after the bytes sent.
func (m *mappedFile) close() {
	m.unmap()
	m.f.Seek(m.off, io.SeekStart)
}

// segmentWriter writes segments with one writev per call when w is a file,
// reusing its iovec array.
type segmentWriter struct {
	w   io.Writer
	iov []unix.Iovec
}

func (sw *segmentWriter) write(segs [][]byte) error {
	f, ok := sw.w.(*os.File)
	if !ok {
		for _, s := range segs {
			if _, err := sw.w.Write(s); err != nil {
				return err
			}
		}
		return nil
	}
	fd := f.Fd()
	for len(segs) > 0 {
		iov := sw.iov[:0]
		for _, s := range segs[:min(len(segs), iovMax)] {
			v := unix.Iovec{Base: unsafe.SliceData(s)}
			v.SetLen(len(s))
			iov = append(iov, v)
		}
		sw.iov = iov
		r, _, errno := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(unsafe.SliceData(iov))), uintptr(len(iov)))
		runtime.KeepAlive(segs)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return &os.PathError{Op: "writev", Path: f.Name(), Err: errno}
		}
		n := int(r)
		if n == 0 {
			return io.ErrShortWrite
		}
		for n > 0 && len(segs) > 0 {
			if n >= len(segs[0]) {
				n -= len(segs[0])
				segs = segs[1:]
				continue
			}
			segs[0] = segs[0][n:]
			n = 0
		}
		for len(segs) > 0 && len(segs[0]) == 0 {
			segs = segs[1:]
		}
	}
	return nil
}

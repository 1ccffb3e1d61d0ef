package audio

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WAVFormat is the fmt chunk of a PCM WAV file.
type WAVFormat struct {
	Channels      int
	SampleRate    int
	BitsPerSample int
}

// ReadWAVHeader reads a RIFF/WAVE header up to the start of the data chunk
// and returns the format and the data length in bytes.
func ReadWAVHeader(r io.Reader) (WAVFormat, int64, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return WAVFormat{}, 0, fmt.Errorf("wav: reading RIFF header: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return WAVFormat{}, 0, errors.New("wav: not a RIFF/WAVE file")
	}
	var f WAVFormat
	sawFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return WAVFormat{}, 0, fmt.Errorf("wav: no data chunk: %w", err)
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch string(ch[0:4]) {
		case "fmt ":
			if size < 16 || size > 1<<16 {
				return WAVFormat{}, 0, fmt.Errorf("wav: fmt chunk of %d bytes", size)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return WAVFormat{}, 0, fmt.Errorf("wav: reading fmt chunk: %w", err)
			}
			tag := binary.LittleEndian.Uint16(b[0:2])
			if tag != 1 && tag != 0xFFFE {
				return WAVFormat{}, 0, fmt.Errorf("wav: format tag %d is not PCM", tag)
			}
			f.Channels = int(binary.LittleEndian.Uint16(b[2:4]))
			f.SampleRate = int(binary.LittleEndian.Uint32(b[4:8]))
			f.BitsPerSample = int(binary.LittleEndian.Uint16(b[14:16]))
			sawFmt = true
		case "data":
			if !sawFmt {
				return WAVFormat{}, 0, errors.New("wav: data chunk before fmt chunk")
			}
			return f, size, nil
		default:
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return WAVFormat{}, 0, fmt.Errorf("wav: skipping %q chunk: %w", ch[0:4], err)
			}
		}
	}
}

// WAVSource reads 8 kHz mono 16-bit PCM frames from a WAV file.
type WAVSource struct {
	f    *os.File
	r    *bufio.Reader
	left int64
	buf  []byte
}

// OpenWAV opens a WAV file as a Source. It must be 8 kHz, mono, 16-bit PCM.
func OpenWAV(path string) (*WAVSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wav: %w", err)
	}
	r := bufio.NewReader(f)
	format, size, err := ReadWAVHeader(r)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if format.Channels != 1 || format.SampleRate != SampleRate || format.BitsPerSample != 16 {
		f.Close()
		return nil, fmt.Errorf("wav: %s is %d Hz, %d channel(s), %d-bit; convert it to 8000 Hz mono 16-bit (e.g. sox in.wav -r 8000 -c 1 -b 16 out.wav)",
			path, format.SampleRate, format.Channels, format.BitsPerSample)
	}
	return &WAVSource{f: f, r: r, left: size, buf: make([]byte, FrameSamples*2)}, nil
}

// ReadFrame reads the next frame; the last partial frame is padded with silence.
func (w *WAVSource) ReadFrame(f []int16) error {
	if w.left < 2 {
		return io.EOF
	}
	want := int64(len(f) * 2)
	if want > w.left {
		want = w.left
	}
	if cap(w.buf) < int(want) {
		w.buf = make([]byte, want)
	}
	b := w.buf[:want]
	n, err := io.ReadFull(w.r, b)
	w.left -= int64(n)
	if n < 2 {
		if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return err
	}
	i := 0
	for ; i < n/2; i++ {
		f[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	clear(f[i:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("wav: %w", err)
	}
	if err != nil {
		w.left = 0
	}
	return nil
}

// Close closes the file.
func (w *WAVSource) Close() error { return w.f.Close() }

// WAVSink records frames to a WAV file. The file appears under its final name
// only on Close (written to a temporary file, then renamed).
type WAVSink struct {
	path string
	tmp  *os.File
	w    *bufio.Writer
	n    int64
	buf  []byte
}

// CreateWAV starts recording 8 kHz mono 16-bit PCM to path.
func CreateWAV(path string) (*WAVSink, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("wav: create %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("wav: %w", err)
	}
	s := &WAVSink{path: path, tmp: tmp, w: bufio.NewWriter(tmp)}
	if _, err := s.w.Write(make([]byte, 44)); err != nil { // header placeholder
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("wav: %w", err)
	}
	return s, nil
}

// WriteFrame appends f.
func (s *WAVSink) WriteFrame(f []int16) error {
	s.buf = s.buf[:0]
	for _, v := range f {
		s.buf = binary.LittleEndian.AppendUint16(s.buf, uint16(v))
	}
	n, err := s.w.Write(s.buf)
	s.n += int64(n)
	if err != nil {
		return fmt.Errorf("wav: write %s: %w", s.path, err)
	}
	return nil
}

// WAVHeader returns the 44-byte header of an 8 kHz mono 16-bit file with
// dataLen bytes of samples.
func WAVHeader(dataLen int64) []byte {
	h := make([]byte, 0, 44)
	h = append(h, "RIFF"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(36+dataLen))
	h = append(h, "WAVEfmt "...)
	h = binary.LittleEndian.AppendUint32(h, 16)
	h = binary.LittleEndian.AppendUint16(h, 1) // PCM
	h = binary.LittleEndian.AppendUint16(h, 1) // mono
	h = binary.LittleEndian.AppendUint32(h, SampleRate)
	h = binary.LittleEndian.AppendUint32(h, SampleRate*2)
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(dataLen))
	return h
}

// Close writes the header, syncs and renames the file into place.
func (s *WAVSink) Close() error {
	name := s.tmp.Name()
	err := s.w.Flush()
	if err == nil {
		_, err = s.tmp.WriteAt(WAVHeader(s.n), 0)
	}
	if err == nil {
		err = s.tmp.Sync()
	}
	if cerr := s.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, s.path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("wav: finish %s: %w", s.path, err)
	}
	return nil
}

// WriteWAV writes samples to path as an 8 kHz mono WAV file, atomically.
func WriteWAV(path string, samples []int16) error {
	s, err := CreateWAV(path)
	if err != nil {
		return err
	}
	for i := 0; i < len(samples); i += FrameSamples {
		end := min(i+FrameSamples, len(samples))
		if err := s.WriteFrame(samples[i:end]); err != nil {
			s.tmp.Close()
			os.Remove(s.tmp.Name())
			return err
		}
	}
	return s.Close()
}

// ReadWAV reads a whole 8 kHz mono 16-bit WAV file.
func ReadWAV(path string) ([]int16, error) {
	src, err := OpenWAV(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	var out []int16
	f := make([]int16, FrameSamples)
	for {
		err := src.ReadFrame(f)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f...)
	}
}

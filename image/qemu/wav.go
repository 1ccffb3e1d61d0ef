package qemu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// WAV is 16-bit PCM audio as QEMU's wav audiodev writes it.
type WAV struct {
	Rate, Channels int
	// Samples are interleaved.
	Samples []int16
}

// ErrWAV is wrapped for files that are not 16-bit PCM WAV.
var ErrWAV = errors.New("qemu: not a 16-bit PCM WAV file")

// ReadWAV reads a WAV file.
func ReadWAV(path string) (*WAV, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	return ParseWAV(b)
}

// ParseWAV parses a RIFF WAV with 16-bit PCM samples. A data chunk whose size
// field is wrong (QEMU killed before it finished the header) is read to the
// end of the file.
func ParseWAV(b []byte) (*WAV, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrWAV)
	}
	var w WAV
	fmtSeen := false
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := b[off+8:]
		if size < 0 || size > len(body) {
			size = len(body)
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("%w: short fmt chunk", ErrWAV)
			}
			format := binary.LittleEndian.Uint16(body[0:2])
			w.Channels = int(binary.LittleEndian.Uint16(body[2:4]))
			w.Rate = int(binary.LittleEndian.Uint32(body[4:8]))
			bits := binary.LittleEndian.Uint16(body[14:16])
			if format != 1 || bits != 16 || w.Channels < 1 || w.Channels > 8 || w.Rate <= 0 {
				return nil, fmt.Errorf("%w: format %d, %d bits, %d channels, %d Hz", ErrWAV, format, bits, w.Channels, w.Rate)
			}
			fmtSeen = true
		case "data":
			if !fmtSeen {
				return nil, fmt.Errorf("%w: data before fmt", ErrWAV)
			}
			if size == 0 { // header never finished: the rest is data
				body = b[off+8:]
			}
			w.Samples = make([]int16, len(body)/2)
			for i := range w.Samples {
				w.Samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return &w, nil
		}
		off += 8 + size + size&1
	}
	return nil, fmt.Errorf("%w: no data chunk", ErrWAV)
}

// Mono returns the first channel as floats in [-1, 1].
func (w *WAV) Mono() []float64 {
	if w.Channels == 0 {
		return nil
	}
	out := make([]float64, len(w.Samples)/w.Channels)
	for i := range out {
		out[i] = float64(w.Samples[i*w.Channels]) / 32768
	}
	return out
}

// Goertzel returns the power of frequency hz in x sampled at rate.
func Goertzel(x []float64, rate, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/rate)
	var s1, s2 float64
	for _, v := range x {
		s0 := v + k*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// ToneCheck reports whether the loudest part of w holds a tone at hz: its
// power beats every probe frequency 100 Hz apart from 300 Hz to 4 kHz (except
// hz itself) by at least 10 times. It returns the ratio to the strongest
// other probe.
func ToneCheck(w *WAV, hz float64) (bool, float64) {
	x := w.Mono()
	if len(x) == 0 {
		return false, 0
	}
	// Find the loudest half-second window.
	win := w.Rate / 2
	if win > len(x) {
		win = len(x)
	}
	best, bestE := 0, -1.0
	for start := 0; start+win <= len(x); start += max(1, win/4) {
		e := 0.0
		for _, v := range x[start : start+win] {
			e += v * v
		}
		if e > bestE {
			best, bestE = start, e
		}
	}
	seg := x[best : best+win]
	target := Goertzel(seg, float64(w.Rate), hz)
	other := 0.0
	for f := 300.0; f <= 4000; f += 100 {
		if math.Abs(f-hz) < 150 {
			continue
		}
		other = math.Max(other, Goertzel(seg, float64(w.Rate), f))
	}
	if other == 0 {
		return target > 0, math.Inf(1)
	}
	return target/other >= 10, target / other
}

// Package audio is the voice stack's audio I/O: 20 ms frames of 8 kHz mono
// signed 16-bit samples, read from a Source and written to a Sink. It has WAV
// file and tone implementations and a Goertzel detector to check tones.
package audio

import (
	"io"
	"math"
	"sync"
)

// Voice format used everywhere in the stack.
const (
	SampleRate   = 8000 // Hz
	FrameMillis  = 20   // ms per frame
	FrameSamples = SampleRate * FrameMillis / 1000
)

// Source produces voice frames. ReadFrame fills f (FrameSamples long) and
// returns io.EOF when the source has ended.
type Source interface {
	ReadFrame(f []int16) error
}

// Sink consumes voice frames as they are played out.
type Sink interface {
	WriteFrame(f []int16) error
}

// Silence is a Source that never ends and produces silence.
type Silence struct{}

// ReadFrame fills f with zeros.
func (Silence) ReadFrame(f []int16) error {
	clear(f)
	return nil
}

// Discard is a Sink that drops every frame.
type Discard struct{}

// WriteFrame drops f.
func (Discard) WriteFrame([]int16) error { return nil }

// Tone is a Source of a sine wave.
type Tone struct {
	Freq      float64 // Hz
	Amplitude float64 // peak, 0..32767; 0 means 8000
	Frames    int     // frames to produce; 0 means forever
	n         int     // samples produced
}

// ReadFrame fills f with the next samples of the tone.
func (t *Tone) ReadFrame(f []int16) error {
	if t.Frames > 0 && t.n >= t.Frames*FrameSamples {
		return io.EOF
	}
	amp := t.Amplitude
	if amp == 0 {
		amp = 8000
	}
	for i := range f {
		f[i] = int16(amp * math.Sin(2*math.Pi*t.Freq*float64(t.n)/SampleRate))
		t.n++
	}
	return nil
}

// Buffer is a Sink that keeps every frame in memory; safe for concurrent use.
type Buffer struct {
	mu      sync.Mutex
	samples []int16
	frames  int
}

// WriteFrame appends f.
func (b *Buffer) WriteFrame(f []int16) error {
	b.mu.Lock()
	b.samples = append(b.samples, f...)
	b.frames++
	b.mu.Unlock()
	return nil
}

// Samples returns a copy of what was written.
func (b *Buffer) Samples() []int16 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int16(nil), b.samples...)
}

// Frames returns the number of frames written.
func (b *Buffer) Frames() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.frames
}

// SliceSource plays back samples, then returns io.EOF.
type SliceSource struct {
	Samples []int16
	pos     int
}

// ReadFrame copies the next frame, padding the last one with silence.
func (s *SliceSource) ReadFrame(f []int16) error {
	if s.pos >= len(s.Samples) {
		return io.EOF
	}
	n := copy(f, s.Samples[s.pos:])
	clear(f[n:])
	s.pos += n
	return nil
}

// Goertzel returns the power of freq in samples (rate Hz), normalised so a
// full-scale sine gives about 0.25 and silence 0.
func Goertzel(samples []int16, freq, rate float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	k := 2 * math.Cos(2*math.Pi*freq/rate)
	var s1, s2 float64
	for _, x := range samples {
		s0 := float64(x)/32768 + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - k*s1*s2
	n := float64(len(samples))
	return p / (n * n)
}

// DominantTone reports whether freq dominates samples: its Goertzel power is
// at least ratio times that of every other probe frequency and the signal is
// not silence. probes are the competing frequencies to compare against.
func DominantTone(samples []int16, freq float64, probes []float64, ratio float64) bool {
	p := Goertzel(samples, freq, SampleRate)
	if p < 1e-5 {
		return false
	}
	for _, q := range probes {
		if q == freq {
			continue
		}
		if Goertzel(samples, q, SampleRate)*ratio > p {
			return false
		}
	}
	return true
}

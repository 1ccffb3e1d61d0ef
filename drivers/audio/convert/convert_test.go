package convert

import (
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tone returns frames of a sine at freq Hz, amplitude amp (0..1), with the
// same value on every channel.
func tone(freq float64, rate, channels, frames int, amp float64) []int16 {
	out := make([]int16, 0, frames*channels)
	for i := 0; i < frames; i++ {
		v := int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := 0; c < channels; c++ {
			out = append(out, v)
		}
	}
	return out
}

// goertzel returns the amplitude (0..1 of full scale) of freq in channel ch
// of interleaved samples.
func goertzel(s []int16, channels, ch int, rate, freq float64) float64 {
	n := len(s) / channels
	w := 2 * math.Pi * freq / rate
	coeff := 2 * math.Cos(w)
	var q1, q2 float64
	for i := 0; i < n; i++ {
		q0 := coeff*q1 - q2 + float64(s[i*channels+ch])/32768
		q2, q1 = q1, q0
	}
	re := q1 - q2*math.Cos(w)
	im := q2 * math.Sin(w)
	return 2 * math.Hypot(re, im) / float64(n)
}

// rms returns the RMS level (0..1) of channel ch.
func rms(s []int16, channels, ch int) float64 {
	var sum float64
	n := len(s) / channels
	for i := 0; i < n; i++ {
		v := float64(s[i*channels+ch]) / 32768
		sum += v * v
	}
	return math.Sqrt(sum / float64(n))
}

// convertChunked runs src through c in chunks of chunk frames, then flushes.
func convertChunked(t *testing.T, c *Converter, src []int16, chunk int) []int16 {
	t.Helper()
	var out []int16
	step := chunk * c.inCh
	for i := 0; i < len(src); i += step {
		var err error
		if out, err = c.Process(out, src[i:min(i+step, len(src))]); err != nil {
			t.Fatal(err)
		}
	}
	return c.Flush(out)
}

func TestToneSurvives(t *testing.T) {
	for _, tt := range []struct {
		inRate, inCh, outRate, outCh int
		freq                         float64
	}{
		{8000, 1, 48000, 2, 1000},
		{8000, 1, 44100, 2, 1000},
		{8000, 1, 44100, 2, 3000},
		{44100, 2, 8000, 1, 1000},
		{48000, 2, 8000, 1, 440},
		{48000, 2, 44100, 2, 1000},
		{16000, 1, 16000, 2, 700},
		{48000, 2, 48000, 1, 700},
		{8000, 2, 48000, 2, 1000},
	} {
		name := fmt.Sprintf("%dHz%dch_to_%dHz%dch_%gHz", tt.inRate, tt.inCh, tt.outRate, tt.outCh, tt.freq)
		t.Run(name, func(t *testing.T) {
			c, err := New(tt.inRate, tt.inCh, tt.outRate, tt.outCh)
			if err != nil {
				t.Fatal(err)
			}
			in := tone(tt.freq, tt.inRate, tt.inCh, tt.inRate/2, 0.5) // 0.5 s
			out := convertChunked(t, c, in, 160)
			wantFrames := (len(in)/tt.inCh*tt.outRate + tt.inRate - 1) / tt.inRate
			if got := len(out) / tt.outCh; got != wantFrames {
				t.Errorf("output frames = %d, want %d", got, wantFrames)
			}
			// Skip the filter's start and end transients.
			skip := tt.outRate / 50 * tt.outCh
			body := out[skip : len(out)-skip]
			for ch := 0; ch < tt.outCh; ch++ {
				amp := goertzel(body, tt.outCh, ch, float64(tt.outRate), tt.freq)
				if math.Abs(amp-0.5) > 0.03 {
					t.Errorf("channel %d: amplitude at %g Hz = %.3f, want 0.5", ch, tt.freq, amp)
				}
				// All the energy is in the tone: RMS of a sine is amp/sqrt2.
				if r := rms(body, tt.outCh, ch); math.Abs(r-amp/math.Sqrt2) > 0.01 {
					t.Errorf("channel %d: rms = %.4f, want %.4f (energy outside %g Hz)", ch, r, amp/math.Sqrt2, tt.freq)
				}
				off := goertzel(body, tt.outCh, ch, float64(tt.outRate), tt.freq*1.5)
				if off > 0.01 {
					t.Errorf("channel %d: amplitude at %g Hz = %.3f, want < 0.01", ch, tt.freq*1.5, off)
				}
			}
		})
	}
}

// TestAntiAlias checks that a tone above the output's Nyquist frequency is
// filtered out instead of folding down.
func TestAntiAlias(t *testing.T) {
	c, err := New(48000, 1, 8000, 1)
	if err != nil {
		t.Fatal(err)
	}
	in := tone(6000, 48000, 1, 24000, 0.5)
	out := convertChunked(t, c, in, 1000)
	if r := rms(out[400:len(out)-400], 1, 0); r > 0.005 {
		t.Errorf("rms of 6 kHz tone resampled to 8 kHz = %.4f, want < 0.005 (aliased to 2 kHz)", r)
	}
}

// TestChunkingInvariant checks that streaming gives the same samples
// whatever the chunk sizes.
func TestChunkingInvariant(t *testing.T) {
	in := tone(1234, 8000, 1, 4000, 0.7)
	var ref []int16
	for _, chunk := range []int{1, 7, 160, 4000} {
		c, err := New(8000, 1, 44100, 2)
		if err != nil {
			t.Fatal(err)
		}
		out := convertChunked(t, c, in, chunk)
		if ref == nil {
			ref = out
			continue
		}
		if d := cmp.Diff(ref, out); d != "" {
			t.Errorf("chunk %d: output differs from chunk 1:\n%.400s", chunk, d)
		}
	}
}

func TestChannelMapping(t *testing.T) {
	for _, tt := range []struct {
		inCh, outCh int
		in, want    []int16
	}{
		{1, 2, []int16{100, -200}, []int16{100, 100, -200, -200}},
		{2, 1, []int16{100, 300, -200, -400}, []int16{200, -300}},
		{4, 2, []int16{1, 2, 3, 4}, []int16{1, 2}},
		{2, 3, []int16{1, 2}, []int16{1, 2, 1}},
	} {
		c, err := New(16000, tt.inCh, 16000, tt.outCh)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Process(nil, tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got = c.Flush(got)
		if !cmp.Equal(got, tt.want) {
			t.Errorf("Process(%d->%d, %v) = %v, want %v", tt.inCh, tt.outCh, tt.in, got, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, tt := range [][4]int{{0, 1, 8000, 1}, {8000, 0, 8000, 1}, {8000, 1, 8000, 33}, {8000, 1, 8001, 1}} {
		if _, err := New(tt[0], tt[1], tt[2], tt[3]); err == nil {
			t.Errorf("New%v = nil error, want error", tt)
		}
	}
	c, _ := New(8000, 2, 48000, 2)
	if _, err := c.Process(nil, []int16{1, 2, 3}); err == nil {
		t.Errorf("Process(3 samples, 2 channels) = nil error, want error")
	}
}

func TestClipping(t *testing.T) {
	// A full-scale square wave overshoots in the filter; it must clip, not wrap.
	in := make([]int16, 800)
	for i := range in {
		if i/20%2 == 0 {
			in[i] = 32767
		} else {
			in[i] = -32768
		}
	}
	c, _ := New(8000, 1, 48000, 1)
	out, _ := c.Process(nil, in)
	out = c.Flush(out)
	for i := 1; i < len(out); i++ {
		if d := int(out[i]) - int(out[i-1]); d > 40000 || d < -40000 {
			t.Fatalf("sample %d jumps %d -> %d: wrapped instead of clipped", i, out[i-1], out[i])
		}
	}
}

// BenchmarkVoiceTo48kStereo measures converting one second of 8 kHz mono
// voice to 48 kHz stereo, in 20 ms chunks as an RTP stream delivers it.
func BenchmarkVoiceTo48kStereo(b *testing.B) {
	in := tone(1000, 8000, 1, 8000, 0.5)
	c, err := New(8000, 1, 48000, 2)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, 0, 2*960)
	b.SetBytes(int64(len(in) * 2))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(in); i += 160 {
			out, _ = c.Process(out[:0], in[i:i+160])
		}
	}
}

// BenchmarkVoiceTo44k1Stereo is the same for 44.1 kHz (441 phases).
func BenchmarkVoiceTo44k1Stereo(b *testing.B) {
	in := tone(1000, 8000, 1, 8000, 0.5)
	c, err := New(8000, 1, 44100, 2)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, 0, 2*1000)
	b.SetBytes(int64(len(in) * 2))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(in); i += 160 {
			out, _ = c.Process(out[:0], in[i:i+160])
		}
	}
}

// BenchmarkCapture48kStereoToVoice measures the microphone's direction:
// one second of 48 kHz stereo to 8 kHz mono, in 1024-frame periods as the
// HDA codec delivers them.
func BenchmarkCapture48kStereoToVoice(b *testing.B) {
	in := tone(1000, 48000, 2, 48000, 0.5)
	c, err := New(48000, 2, 8000, 1)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]int16, 0, 400)
	b.SetBytes(int64(len(in) * 2))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i+2048 <= len(in); i += 2048 {
			out, _ = c.Process(out[:0], in[i:i+2048])
		}
	}
}

// Package convert changes the sample rate and channel count of interleaved
// signed 16-bit PCM audio, streaming: input can arrive in chunks of any size
// and only a short filter history is kept between calls.
//
// Rate conversion is a rational polyphase resampler: the ratio out/in is
// reduced to L/M, and each of the L phases has its own windowed-sinc FIR
// filter (Blackman-Harris window, 32 taps when upsampling, stretched when
// downsampling so the cutoff sits below the output's Nyquist frequency).
// Channels are mapped by duplicating mono to all outputs, averaging down to
// mono, or keeping the first channels otherwise.
//
// The arithmetic is fixed point (Q15 coefficients, 64-bit accumulators), not
// floating point: on a device emulated without an FPU fast path (QEMU TCG
// runs every SSE float instruction through a helper) floats cost tens of
// times more than integers, and a call converts 20-50 thousand frames a
// second each way.
package convert

import (
	"errors"
	"fmt"
	"math"
)

// maxPhases bounds the filter table for odd rate pairs.
const maxPhases = 4096

// baseHalfTaps is the half length of the filter at ratio 1.
const baseHalfTaps = 16

// ErrFormat is wrapped by New for rates or channel counts it cannot handle.
var ErrFormat = errors.New("convert: unsupported format")

// Converter converts one stream. It is not safe for concurrent use.
type Converter struct {
	inRate, outRate int
	inCh, outCh     int
	wch             int // channels the resampler works on: min(inCh, outCh)
	l, m            int // out/in = l/m
	taps            int
	filt            []int32 // l rows of taps coefficients, Q15
	buf             []int32 // wch-interleaved history + pending input samples
	acc             int     // output time in 1/l input frames, relative to buf[0]
	inFrames        int64
	outFrames       int64
	work            []int32
}

// New returns a converter from inRate Hz, inChannels to outRate Hz,
// outChannels.
func New(inRate, inChannels, outRate, outChannels int) (*Converter, error) {
	if inRate <= 0 || outRate <= 0 || inRate > 1_000_000 || outRate > 1_000_000 {
		return nil, fmt.Errorf("%w: rates %d -> %d Hz (want 1..1000000)", ErrFormat, inRate, outRate)
	}
	if inChannels <= 0 || outChannels <= 0 || inChannels > 32 || outChannels > 32 {
		return nil, fmt.Errorf("%w: channels %d -> %d (want 1..32)", ErrFormat, inChannels, outChannels)
	}
	g := gcd(inRate, outRate)
	c := &Converter{inRate: inRate, outRate: outRate, inCh: inChannels, outCh: outChannels,
		wch: min(inChannels, outChannels), l: outRate / g, m: inRate / g}
	if c.l > maxPhases {
		return nil, fmt.Errorf("%w: rates %d -> %d Hz need %d filter phases (max %d); pick rates with a larger common divisor", ErrFormat, inRate, outRate, c.l, maxPhases)
	}
	if c.l != c.m {
		c.design()
		c.buf = make([]int32, (c.taps/2-1)*c.wch) // zero history before the first sample
	}
	return c, nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// design fills the polyphase filter table.
func (c *Converter) design() {
	ratio := float64(c.outRate) / float64(c.inRate)
	fc := 1.0 // cutoff as a fraction of the input Nyquist frequency
	if ratio < 1 {
		fc = ratio
	}
	fc *= 0.92
	half := int(math.Ceil(baseHalfTaps / math.Min(1, ratio)))
	c.taps = 2 * half
	c.filt = make([]int32, c.l*c.taps)
	for p := 0; p < c.l; p++ {
		row := c.filt[p*c.taps : (p+1)*c.taps]
		frac := float64(p) / float64(c.l)
		var sum float64
		vals := make([]float64, c.taps)
		for k := range vals {
			d := float64(k-half+1) - frac // distance of tap k from the output time
			vals[k] = fc * sinc(fc*d) * window(d, float64(half))
			sum += vals[k]
		}
		// Unity gain at DC for every phase: the rounding error goes to
		// the centre tap so each row sums to exactly 1<<qBits.
		var isum int32
		for k, v := range vals {
			row[k] = int32(math.Round(v / sum * (1 << qBits)))
			isum += row[k]
		}
		row[half-1] += 1<<qBits - isum
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// window is a Blackman-Harris window over |d| < half.
func window(d, half float64) float64 {
	x := (d + half) / (2 * half) // 0..1
	if x <= 0 || x >= 1 {
		return 0
	}
	a := 2 * math.Pi * x
	return 0.35875 - 0.48829*math.Cos(a) + 0.14128*math.Cos(2*a) - 0.01168*math.Cos(3*a)
}

// InFormat returns the input rate and channel count.
func (c *Converter) InFormat() (rate, channels int) { return c.inRate, c.inCh }

// OutFormat returns the output rate and channel count.
func (c *Converter) OutFormat() (rate, channels int) { return c.outRate, c.outCh }

// Process converts src (whole interleaved input frames) and appends the
// output frames available so far to dst. A trailing partial frame in src is
// an error.
func (c *Converter) Process(dst, src []int16) ([]int16, error) {
	if len(src)%c.inCh != 0 {
		return dst, fmt.Errorf("convert: %d samples is not a whole number of %d-channel frames", len(src), c.inCh)
	}
	n := len(src) / c.inCh
	c.inFrames += int64(n)
	if c.l == c.m {
		c.work = c.downmix(c.work[:0], src)
		c.outFrames += int64(n)
		return c.upmix(dst, c.work), nil
	}
	c.buf = c.downmix(c.buf, src)
	return c.resample(dst, false), nil
}

// Flush ends the stream: it renders the input still held in the filter and
// appends it to dst, so that the total output is inFrames*outRate/inRate
// frames, rounded up. The converter can then start a new stream.
func (c *Converter) Flush(dst []int16) []int16 {
	if c.l != c.m {
		half := c.taps / 2
		c.buf = append(c.buf, make([]int32, (half+1)*c.wch)...)
		dst = c.resample(dst, true)
		c.buf = make([]int32, (half-1)*c.wch)
		c.acc = 0
	}
	c.inFrames, c.outFrames = 0, 0
	return dst
}

// qBits is the fixed-point scale of the filter coefficients (Q15).
const qBits = 15

// downmix appends src mapped to wch channels to buf.
func (c *Converter) downmix(buf []int32, src []int16) []int32 {
	switch {
	case c.inCh == c.wch:
		for _, s := range src {
			buf = append(buf, int32(s))
		}
	case c.wch == 1:
		n := int32(c.inCh)
		for i := 0; i < len(src); i += c.inCh {
			var sum int32
			for _, s := range src[i : i+c.inCh] {
				sum += int32(s)
			}
			// Round to nearest, halves away from zero.
			if sum < 0 {
				sum -= n / 2
			} else {
				sum += n / 2
			}
			buf = append(buf, sum/n)
		}
	default:
		for i := 0; i < len(src); i += c.inCh {
			for _, s := range src[i : i+c.wch] {
				buf = append(buf, int32(s))
			}
		}
	}
	return buf
}

// upmix appends w (wch-interleaved frames) as outCh int16 frames.
func (c *Converter) upmix(dst []int16, w []int32) []int16 {
	if c.outCh == c.wch {
		for _, v := range w {
			dst = append(dst, int16(v))
		}
		return dst
	}
	for i := 0; i < len(w); i += c.wch {
		for ch := 0; ch < c.outCh; ch++ {
			dst = append(dst, int16(w[i+ch%c.wch]))
		}
	}
	return dst
}

// toInt16 rounds a Q15 accumulator to a sample, saturating.
func toInt16(v int64) int16 {
	v = (v + 1<<(qBits-1)) >> qBits
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return int16(v)
}

// resample renders every output frame whose filter window is inside buf,
// then drops the input frames no later output needs.
func (c *Converter) resample(dst []int16, flush bool) []int16 {
	frames := len(c.buf) / c.wch
	var limit int64 = math.MaxInt64
	if flush {
		limit = (c.inFrames*int64(c.l) + int64(c.m) - 1) / int64(c.m)
	}
	w := c.wch
	for c.outFrames < limit {
		i := c.acc / c.l
		if i+c.taps > frames {
			break
		}
		row := c.filt[(c.acc%c.l)*c.taps : (c.acc%c.l+1)*c.taps]
		in := c.buf[i*w : (i+c.taps)*w]
		var frame [32]int64
		switch w {
		case 1:
			var s int64
			in = in[:len(row)]
			for k, h := range row {
				s += int64(in[k] * h) // |sample*coef| < 2^31: no overflow
			}
			frame[0] = s
		case 2:
			var s0, s1 int64
			in = in[:2*len(row)]
			for k, h := range row {
				s0 += int64(in[2*k] * h)
				s1 += int64(in[2*k+1] * h)
			}
			frame[0], frame[1] = s0, s1
		default:
			for k, h := range row {
				x := in[k*w : k*w+w]
				for ch, v := range x {
					frame[ch] += int64(v * h)
				}
			}
		}
		for ch := 0; ch < c.outCh; ch++ {
			dst = append(dst, toInt16(frame[ch%w]))
		}
		c.outFrames++
		c.acc += c.m
	}
	if drop := c.acc / c.l; drop > 0 {
		if drop > frames {
			drop = frames
		}
		n := copy(c.buf, c.buf[drop*w:])
		c.buf = c.buf[:n]
		c.acc -= drop * c.l
	}
	return dst
}

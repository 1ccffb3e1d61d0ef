// Package alsa is a pure-Go ALSA PCM layer: it drives /dev/snd/pcmC*D*[pc]
// with the kernel's ioctls (no alsa-lib), for interleaved S16_LE playback
// and capture.
//
// The struct layouts follow include/uapi/sound/asound.h for 64-bit
// platforms (amd64, arm64): snd_pcm_hw_params is 608 bytes, snd_xferi 24.
package alsa

import "fmt"

// Param is an snd_pcm_hw_param_t: a mask (access, format, subformat) or an
// interval (everything from SampleBits on).
type Param int

// Hardware parameters (SNDRV_PCM_HW_PARAM_*).
const (
	ParamAccess     Param = 0
	ParamFormat     Param = 1
	ParamSubformat  Param = 2
	ParamSampleBits Param = 8
	ParamFrameBits  Param = 9
	ParamChannels   Param = 10
	ParamRate       Param = 11
	ParamPeriodTime Param = 12
	ParamPeriodSize Param = 13
	ParamPeriodByte Param = 14
	ParamPeriods    Param = 15
	ParamBufferTime Param = 16
	ParamBufferSize Param = 17
	ParamBufferByte Param = 18
	ParamTickTime   Param = 19

	firstMask     = ParamAccess
	lastMask      = ParamSubformat
	firstInterval = ParamSampleBits
	lastInterval  = ParamTickTime
)

// Mask and format values.
const (
	AccessRWInterleaved = 3 // SNDRV_PCM_ACCESS_RW_INTERLEAVED
	FormatS16LE         = 2 // SNDRV_PCM_FORMAT_S16_LE
	SubformatStd        = 0 // SNDRV_PCM_SUBFORMAT_STD
)

// Interval flag bits (the C bitfield openmin:1 openmax:1 integer:1 empty:1).
const (
	IntervalOpenMin uint32 = 1 << 0
	IntervalOpenMax uint32 = 1 << 1
	IntervalInteger uint32 = 1 << 2
	IntervalEmpty   uint32 = 1 << 3
)

// Mask is snd_mask: a 256-bit set.
type Mask struct {
	Bits [8]uint32
}

// Interval is snd_interval.
type Interval struct {
	Min, Max uint32
	Flags    uint32
}

// HWParams is struct snd_pcm_hw_params, passed to HW_REFINE and HW_PARAMS.
type HWParams struct {
	Flags     uint32
	Masks     [lastMask - firstMask + 1]Mask
	mres      [5]Mask
	Intervals [lastInterval - firstInterval + 1]Interval
	ires      [9]Interval
	Rmask     uint32 // parameters the kernel must refine
	Cmask     uint32 // parameters the kernel changed
	Info      uint32
	Msbits    uint32
	RateNum   uint32
	RateDen   uint32
	FifoSize  uint64
	reserved  [64]byte
}

// Any resets p to "every configuration", like snd_pcm_hw_params_any.
func (p *HWParams) Any() {
	*p = HWParams{}
	for i := range p.Masks {
		for j := range p.Masks[i].Bits {
			p.Masks[i].Bits[j] = ^uint32(0)
		}
	}
	for i := range p.Intervals {
		p.Intervals[i] = Interval{Min: 0, Max: ^uint32(0)}
	}
	p.Rmask = ^uint32(0)
	p.Info = ^uint32(0)
}

// SetMask restricts mask parameter m to the single value v.
func (p *HWParams) SetMask(m Param, v uint) {
	if m < firstMask || m > lastMask || v >= 256 {
		panic(fmt.Sprintf("alsa: SetMask(%d, %d): not a mask parameter or value", m, v))
	}
	p.Masks[m-firstMask] = Mask{}
	p.Masks[m-firstMask].Bits[v/32] = 1 << (v % 32)
	p.Rmask |= 1 << uint(m)
}

// MaskHas reports whether mask parameter m allows v.
func (p *HWParams) MaskHas(m Param, v uint) bool {
	if m < firstMask || m > lastMask || v >= 256 {
		return false
	}
	return p.Masks[m-firstMask].Bits[v/32]&(1<<(v%32)) != 0
}

// SetInterval restricts interval parameter i to [min, max] (integer).
func (p *HWParams) SetInterval(i Param, min, max uint32) {
	if i < firstInterval || i > lastInterval {
		panic(fmt.Sprintf("alsa: SetInterval(%d): not an interval parameter", i))
	}
	p.Intervals[i-firstInterval] = Interval{Min: min, Max: max, Flags: IntervalInteger}
	p.Rmask |= 1 << uint(i)
}

// Interval returns interval parameter i.
func (p *HWParams) Interval(i Param) Interval {
	if i < firstInterval || i > lastInterval {
		return Interval{}
	}
	return p.Intervals[i-firstInterval]
}

// Value returns the value of a fully refined interval: its minimum, plus
// one when the minimum is open.
func (iv Interval) Value() uint32 {
	if iv.Flags&IntervalOpenMin != 0 {
		return iv.Min + 1
	}
	return iv.Min
}

// Choose picks the hardware rate and channel count for a caller who wants
// rate and channels, given the ranges the hardware allows. It keeps what the
// caller wants when possible; otherwise it prefers rates that are an integer
// multiple of the wanted rate (cheap, exact resampling), then common rates (48 kHz first),
// then the nearest allowed value.
func Choose(rate, channels int, rateMin, rateMax, chMin, chMax uint32) (hwRate, hwChannels int) {
	hwChannels = clamp(channels, chMin, chMax)
	in := func(r int) bool { return r >= int(rateMin) && r <= int(rateMax) }
	if in(rate) {
		return rate, hwChannels
	}
	preferred := []int{48000, 44100, 96000, 32000, 16000, 22050, 11025, 8000}
	if rate > 0 {
		// The smallest exact multiple: the least data to move and convert
		// (8 kHz voice runs at 16 kHz, not 48 kHz, on QEMU's HDA codec).
		best := 0
		for _, r := range preferred {
			if in(r) && r%rate == 0 && (best == 0 || r < best) {
				best = r
			}
		}
		if best != 0 {
			return best, hwChannels
		}
	}
	for _, r := range preferred {
		if in(r) {
			return r, hwChannels
		}
	}
	return clamp(rate, rateMin, rateMax), hwChannels
}

func clamp(v int, lo, hi uint32) int {
	if v < int(lo) {
		return int(lo)
	}
	if uint64(v) > uint64(hi) {
		return int(hi)
	}
	return v
}

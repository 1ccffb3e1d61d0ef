package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/oemkit/messenger/drivers/audio/alsa"
	"github.com/oemkit/messenger/drivers/audio/convert"
)

// Device is a PCM stream in the caller's format. Playback devices are
// io.Writers, capture devices io.Readers, of S16_LE interleaved bytes.
// A Device is not safe for concurrent use.
type Device struct {
	pcm      *alsa.PCM
	stream   alsa.Stream
	rate, ch int // caller's format
	conv     *convert.Converter
	samples  []int16 // scratch: caller samples (playback) or hw samples (capture)
	out      []int16 // converted samples
	partial  []byte  // playback: bytes of an incomplete frame
	pending  []int16 // capture: converted samples not yet returned
	pbytes   []byte  // capture: bytes of pending not yet returned by Read
	readAt   time.Time
	readLag  int // capture: hardware frames still in the ring after the last period read
}

// Option tunes how a PCM is opened.
type Option func(*alsa.Config)

// WithPeriod sets the hardware period (the kernel's wakeup interval) in
// time; a voice call uses its 20 ms frame.
func WithPeriod(d time.Duration) Option { return func(c *alsa.Config) { c.PeriodTime = d } }

// WithPeriods sets the number of periods in the ring buffer.
func WithPeriods(n int) Option { return func(c *alsa.Config) { c.Periods = n } }

// WithStart sets how much queued audio starts playback (default half the
// ring): the playback latency for the rest of the stream.
func WithStart(d time.Duration) Option { return func(c *alsa.Config) { c.StartTime = d } }

// ErrNoPCM is returned when no PCM device node exists.
var ErrNoPCM = errors.New("audio: no PCM device")

// OpenPlayback opens the first playback PCM (/dev/snd/pcmC*D*p) for audio
// at rate Hz with channels channels, converting as the hardware needs.
func OpenPlayback(rate, channels int, opts ...Option) (*Device, error) {
	p := FindPCM("/dev", false)
	if len(p) == 0 {
		return nil, fmt.Errorf("%w for playback in /dev/snd (did the audio driver bind? check driverreg.Init's state)", ErrNoPCM)
	}
	return OpenPath(p[0], alsa.Playback, rate, channels, opts...)
}

// OpenCapture opens the first capture PCM (/dev/snd/pcmC*D*c) for audio at
// rate Hz with channels channels, converting as the hardware needs.
func OpenCapture(rate, channels int, opts ...Option) (*Device, error) {
	p := FindPCM("/dev", true)
	if len(p) == 0 {
		return nil, fmt.Errorf("%w for capture in /dev/snd (did the audio driver bind? check driverreg.Init's state)", ErrNoPCM)
	}
	return OpenPath(p[0], alsa.Capture, rate, channels, opts...)
}

// OpenPath opens the PCM device node at path.
func OpenPath(path string, s alsa.Stream, rate, channels int, opts ...Option) (*Device, error) {
	if rate <= 0 || channels <= 0 {
		return nil, fmt.Errorf("audio: open %s: rate %d, channels %d: want positive values", path, rate, channels)
	}
	cfg := alsa.Config{Rate: rate, Channels: channels}
	if s == alsa.Capture {
		// A deep capture ring adds no latency (each period is read as it
		// fills) and lengthens the kernel's stall timeout (1.1 buffer
		// times), so a codec whose host backend delivers late (QEMU's
		// under load) does not stop the microphone.
		cfg.Periods = 16
	}
	for _, o := range opts {
		o(&cfg)
	}
	pcm, err := alsa.Open(path, s, cfg)
	if err != nil {
		return nil, err
	}
	d := &Device{pcm: pcm, stream: s, rate: rate, ch: channels}
	if pcm.Rate() != rate || pcm.Channels() != channels {
		if s == alsa.Playback {
			d.conv, err = convert.New(rate, channels, pcm.Rate(), pcm.Channels())
		} else {
			d.conv, err = convert.New(pcm.Rate(), pcm.Channels(), rate, channels)
		}
		if err != nil {
			pcm.Close()
			return nil, fmt.Errorf("audio: open %s: %w", path, err)
		}
	}
	return d, nil
}

// Format returns the caller's rate and channels.
func (d *Device) Format() (rate, channels int) { return d.rate, d.ch }

// HardwareFormat returns the rate and channels the hardware runs at.
func (d *Device) HardwareFormat() (rate, channels int) { return d.pcm.Rate(), d.pcm.Channels() }

// Xruns returns the number of underruns or overruns recovered from.
func (d *Device) Xruns() int { return d.pcm.Xruns() }

// Stalls returns the number of capture stalls recovered from.
func (d *Device) Stalls() int { return d.pcm.Stalls() }

// WriteFrames plays interleaved samples in the caller's format.
func (d *Device) WriteFrames(s []int16) error {
	if d.stream != alsa.Playback {
		return fmt.Errorf("audio: write on a capture device")
	}
	if d.conv == nil {
		_, err := d.pcm.WriteFrames(s)
		return err
	}
	var err error
	if d.out, err = d.conv.Process(d.out[:0], s); err != nil {
		return err
	}
	_, err = d.pcm.WriteFrames(d.out)
	return err
}

// Write plays S16_LE interleaved bytes in the caller's format. Bytes of an
// incomplete frame are kept for the next call.
func (d *Device) Write(p []byte) (int, error) {
	frameBytes := 2 * d.ch
	buf := p
	if len(d.partial) > 0 {
		buf = append(d.partial, p...)
	}
	whole := len(buf) / frameBytes * frameBytes
	d.samples = bytesToSamples(d.samples[:0], buf[:whole])
	d.partial = append(d.partial[:0], buf[whole:]...)
	if err := d.WriteFrames(d.samples); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadFrames captures into s (a multiple of the caller's channel count)
// and returns the number of frames read. It blocks until at least one
// frame is available.
func (d *Device) ReadFrames(s []int16) (int, error) {
	if err := d.fill(); err != nil {
		return 0, err
	}
	n := min(len(s), len(d.pending)) / d.ch * d.ch
	copy(s, d.pending[:n])
	d.pending = d.pending[:copy(d.pending, d.pending[n:])]
	return n / d.ch, nil
}

// fill reads a period from the hardware when no whole frame is pending.
func (d *Device) fill() error {
	if d.stream != alsa.Capture {
		return fmt.Errorf("audio: read on a playback device")
	}
	for len(d.pending) < d.ch {
		hwCh := d.pcm.Channels()
		// Read up to four periods: a capture read returns as soon as a
		// period is there, with whatever else the ring holds, so audio
		// that arrived in a burst does not wait a period per period.
		want := max(d.pcm.PeriodSize(), 1) * 4 * hwCh
		if cap(d.samples) < want {
			d.samples = make([]int16, want)
		}
		buf := d.samples[:want]
		n, err := d.pcm.ReadAvail(buf)
		if err != nil {
			return err
		}
		d.readAt = time.Now()
		d.readLag = 0
		if n*hwCh == len(buf) {
			// The read may have left audio in the ring (a read that
			// returned less took all there was): ask how much.
			d.readLag, _ = d.pcm.Delay()
		}
		got := buf[:n*hwCh]
		if d.conv != nil {
			if d.out, err = d.conv.Process(d.out[:0], got); err != nil {
				return err
			}
			got = d.out
		}
		d.pending = append(d.pending, got...)
	}
	return nil
}

// Read captures S16_LE interleaved bytes in the caller's format. It blocks
// until at least one frame is available.
func (d *Device) Read(p []byte) (int, error) {
	if len(d.pbytes) == 0 {
		if err := d.fill(); err != nil {
			return 0, err
		}
		d.pbytes = samplesToBytes(d.pbytes[:0], d.pending)
		d.pending = d.pending[:0]
	}
	n := min(len(p), len(d.pbytes)/(2*d.ch)*(2*d.ch))
	copy(p, d.pbytes[:n])
	d.pbytes = d.pbytes[:copy(d.pbytes, d.pbytes[n:])]
	return n, nil
}

// CaptureAge returns, for capture, how long ago the next frame ReadFrames
// returns was captured by the hardware: the frames pending here and those
// still in the kernel's ring when the last period was read, plus the time
// since that read. It is 0 before the first read.
func (d *Device) CaptureAge() time.Duration {
	if d.stream != alsa.Capture || d.readAt.IsZero() {
		return 0
	}
	queued := time.Duration(len(d.pending)/d.ch) * time.Second / time.Duration(d.rate)
	ring := time.Duration(d.readLag) * time.Second / time.Duration(d.pcm.Rate())
	return queued + ring + time.Since(d.readAt)
}

// PlaybackDelay returns, for playback, how long until a frame written now
// is heard: the frames queued in the kernel's ring (snd_pcm_delay; the
// converter's filter adds about 2 ms more).
func (d *Device) PlaybackDelay() (time.Duration, error) {
	if d.stream != alsa.Playback {
		return 0, fmt.Errorf("audio: playback delay of a capture device")
	}
	n, err := d.pcm.Delay()
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second / time.Duration(d.pcm.Rate()), nil
}

// Close ends the stream: a playback device plays out what the converter
// still holds and waits for the hardware to finish; a capture device stops.
func (d *Device) Close() error {
	var err error
	if d.stream == alsa.Playback {
		if d.conv != nil {
			d.out = d.conv.Flush(d.out[:0])
			if len(d.out) > 0 {
				_, err = d.pcm.WriteFrames(d.out)
			}
		}
		if derr := d.pcm.Drain(); err == nil {
			err = derr
		}
	}
	if cerr := d.pcm.Close(); err == nil {
		err = cerr
	}
	return err
}

func bytesToSamples(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

func samplesToBytes(dst []byte, s []int16) []byte {
	for _, v := range s {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	return dst
}

// Tone returns frames of a sine at freq Hz lasting dur, at rate Hz with
// channels channels, amplitude amp (0..1 of full scale), with 5 ms fades at
// both ends so it does not click.
func Tone(freq float64, dur time.Duration, rate, channels int, amp float64) []int16 {
	n := int(dur.Seconds() * float64(rate))
	fade := rate / 200
	out := make([]int16, 0, n*channels)
	for i := 0; i < n; i++ {
		g := amp
		if i < fade {
			g *= float64(i) / float64(fade)
		} else if n-1-i < fade {
			g *= float64(n-1-i) / float64(fade)
		}
		v := int16(math.Round(32767 * g * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
		for c := 0; c < channels; c++ {
			out = append(out, v)
		}
	}
	return out
}

// PlayTone plays a sine of freq Hz for dur through the first playback PCM,
// fed at rate Hz with channels channels (8000, 1 exercises the conversion),
// and waits until it has been played.
func PlayTone(freq float64, dur time.Duration, rate, channels int) error {
	d, err := OpenPlayback(rate, channels)
	if err != nil {
		return err
	}
	s := Tone(freq, dur, rate, channels, 0.5)
	chunk := rate / 50 * channels // 20 ms, like a voice stream
	for i := 0; i < len(s); i += chunk {
		if err := d.WriteFrames(s[i:min(i+chunk, len(s))]); err != nil {
			d.Close()
			return fmt.Errorf("audio: play tone: %w", err)
		}
	}
	if err := d.Close(); err != nil {
		return fmt.Errorf("audio: play tone: %w", err)
	}
	return nil
}

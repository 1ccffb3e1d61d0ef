package alsa

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// PCM is an open, configured and prepared PCM stream. Its methods are not
// safe for concurrent use.
type PCM struct {
	fd int // playback: blocking (DRAIN needs it); capture: non-blocking, waited for through file
	// file holds a capture PCM's fd in the Go runtime's poller: a read
	// waits in the poller, not in a blocking ioctl that makes the runtime
	// hand its processor to another thread (and its monitor wake every
	// 20 µs) on each period, which is most of a call's CPU under emulation.
	file       *os.File
	path       string
	stream     Stream
	rate       int
	channels   int
	periodSize int
	bufferSize int
	xruns      int
	stalls     int
	partial    bool    // transfer returns after the first successful ioctl (ReadAvail)
	pin        []int16 // keeps the buffer handed to the kernel on the heap
	// SWParamsErr is set when the software parameters (start threshold)
	// could not be set; the kernel's defaults are used then.
	SWParamsErr error
}

// Open opens and configures the PCM device at path (e.g. /dev/snd/pcmC0D0p)
// for interleaved S16_LE. It asks the hardware for its ranges (HW_REFINE),
// picks the rate and channels closest to cfg (see Choose), sets them
// (HW_PARAMS), sets the start threshold (SW_PARAMS) and prepares the stream.
func Open(path string, s Stream, cfg Config) (*PCM, error) {
	if cfg.PeriodSize <= 0 {
		cfg.PeriodSize = 1024
	}
	if cfg.Periods <= 0 {
		cfg.Periods = 4
	}
	flags := unix.O_RDWR | unix.O_CLOEXEC
	if s == Capture {
		flags |= unix.O_NONBLOCK
	}
	fd, err := unix.Open(path, flags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s (is the audio driver bound? see /proc/asound/cards)", ErrNoDevice, path)
		}
		return nil, fmt.Errorf("alsa: open %s: %w", path, err)
	}
	p := &PCM{fd: fd, path: path, stream: s}
	if err := p.configure(cfg); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if s == Capture {
		p.file = os.NewFile(uintptr(fd), path) // pollable: the fd is non-blocking
	}
	return p, nil
}

func (p *PCM) ioctl(req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(p.fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return errno
	}
}

func (p *PCM) configure(cfg Config) error {
	var hp HWParams
	hp.Any()
	hp.SetMask(ParamAccess, AccessRWInterleaved)
	hp.SetMask(ParamFormat, FormatS16LE)
	hp.SetMask(ParamSubformat, SubformatStd)
	if err := p.ioctl(ioctlHWRefine, unsafe.Pointer(&hp)); err != nil {
		return fmt.Errorf("alsa: %s: refine S16_LE interleaved: %w (the device does not do 16-bit interleaved audio)", p.path, err)
	}
	ch := hp.Interval(ParamChannels)
	rt := hp.Interval(ParamRate)
	rate, channels := Choose(cfg.Rate, cfg.Channels, rt.Min, rt.Max, ch.Min, ch.Max)
	if cfg.PeriodTime > 0 {
		cfg.PeriodSize = max(1, int(int64(rate)*int64(cfg.PeriodTime)/int64(time.Second)))
	}

	set := func(withPeriods bool) (HWParams, error) {
		var hp HWParams
		hp.Any()
		hp.SetMask(ParamAccess, AccessRWInterleaved)
		hp.SetMask(ParamFormat, FormatS16LE)
		hp.SetMask(ParamSubformat, SubformatStd)
		hp.SetInterval(ParamSampleBits, 16, 16)
		hp.SetInterval(ParamChannels, uint32(channels), uint32(channels))
		hp.SetInterval(ParamRate, uint32(rate), uint32(rate))
		if withPeriods {
			hp.SetInterval(ParamPeriodSize, uint32(cfg.PeriodSize), uint32(cfg.PeriodSize))
			hp.SetInterval(ParamPeriods, uint32(cfg.Periods), uint32(cfg.Periods))
		}
		return hp, p.ioctl(ioctlHWParams, unsafe.Pointer(&hp))
	}
	hp, err := set(true)
	if err != nil {
		// The hardware may not take this period layout: let it choose.
		if hp, err = set(false); err != nil {
			return fmt.Errorf("alsa: %s: set S16_LE %d ch %d Hz (device allows %d-%d ch, %d-%d Hz): %w",
				p.path, channels, rate, ch.Min, ch.Max, rt.Min, rt.Max, err)
		}
	}
	p.rate = int(hp.Interval(ParamRate).Value())
	p.channels = int(hp.Interval(ParamChannels).Value())
	p.periodSize = int(hp.Interval(ParamPeriodSize).Value())
	p.bufferSize = int(hp.Interval(ParamBufferSize).Value())

	// Playback starts when half the buffer is queued (or on drain), so
	// that a writer that converts on the fly does not underrun at once;
	// capture starts on the first read.
	sw := swParams{AvailMin: uint64(p.periodSize), StopThreshold: uint64(p.bufferSize), StartThreshold: 1,
		Proto: 2<<16 | 0<<8 | 12}
	if p.stream == Playback {
		sw.StartThreshold = uint64(p.bufferSize / 2)
		if cfg.StartTime > 0 {
			sw.StartThreshold = uint64(min(p.bufferSize, max(1, int(int64(p.rate)*int64(cfg.StartTime)/int64(time.Second)))))
		}
	}
	if err := p.ioctl(ioctlSWParams, unsafe.Pointer(&sw)); err != nil {
		p.SWParamsErr = fmt.Errorf("alsa: %s: sw params: %w", p.path, err)
	}
	if err := p.ioctl(ioctlPrepare, nil); err != nil {
		return fmt.Errorf("alsa: %s: prepare: %w", p.path, err)
	}
	return nil
}

// Rate returns the hardware sample rate in Hz.
func (p *PCM) Rate() int { return p.rate }

// Channels returns the hardware channel count.
func (p *PCM) Channels() int { return p.channels }

// PeriodSize returns the period size in frames.
func (p *PCM) PeriodSize() int { return p.periodSize }

// BufferSize returns the ring buffer size in frames.
func (p *PCM) BufferSize() int { return p.bufferSize }

// Xruns returns how many underruns (playback) or overruns (capture) were
// recovered from.
func (p *PCM) Xruns() int { return p.xruns }

// Stalls returns how many capture stalls (EIO) were recovered from.
func (p *PCM) Stalls() int { return p.stalls }

// Path returns the device node path.
func (p *PCM) Path() string { return p.path }

// maxStalls bounds the capture stalls in a row that transfer recovers
// from before it gives up: the kernel reports a capture whose DMA made no
// progress for max(100 ms, 1.1 buffer times) as EIO.
const maxStalls = 8

// transfer moves whole frames with WRITEI/READI, recovering from xruns
// (EPIPE, ESTRPIPE) by preparing the stream again. A capture stall (EIO:
// no audio came for the kernel's wait time, as when an emulated codec's
// host backend is late) is recovered the same way, up to maxStalls in a
// row without a frame.
func (p *PCM) transfer(req uintptr, buf []int16) (int, error) {
	if len(buf)%p.channels != 0 {
		return 0, fmt.Errorf("alsa: %s: %d samples is not a whole number of %d-channel frames", p.path, len(buf), p.channels)
	}
	frames := len(buf) / p.channels
	p.pin = buf // escapes to the heap: the kernel gets its address as a uintptr
	defer func() { p.pin = nil }()
	done, stalls := 0, 0
	for done < frames {
		x := xferi{Buf: uintptr(unsafe.Pointer(&buf[done*p.channels])), Frames: uint64(frames - done)}
		var err error
		if p.file != nil {
			err = p.pollIoctl(req, &x)
		} else {
			err = p.ioctl(req, unsafe.Pointer(&x))
		}
		runtime.KeepAlive(buf)
		switch {
		case err == nil:
			done += int(x.Result)
			stalls = 0
			if p.partial && done > 0 {
				return done, nil
			}
		case errors.Is(err, unix.EIO) && p.stream == Capture && stalls < maxStalls:
			stalls++
			p.stalls++
			// The stream is still running: stop it, then prepare it to
			// start again on the next read.
			p.ioctl(ioctlDrop, nil)
			if perr := p.ioctl(ioctlPrepare, nil); perr != nil {
				return done, fmt.Errorf("alsa: %s: recover from a capture stall: %w", p.path, perr)
			}
		case errors.Is(err, unix.EIO) && p.stream == Capture:
			return done, fmt.Errorf("alsa: %s: capture stalled: no audio from the codec %d times in a row: %w", p.path, stalls+1, err)
		case errors.Is(err, unix.EPIPE), errors.Is(err, unix.ESTRPIPE):
			p.xruns++
			if perr := p.ioctl(ioctlPrepare, nil); perr != nil {
				return done, fmt.Errorf("alsa: %s: recover from xrun: %w", p.path, perr)
			}
		case errors.Is(err, unix.EAGAIN):
			continue
		default:
			return done, fmt.Errorf("alsa: %s: %s: %w", p.path, p.stream, err)
		}
	}
	return done, nil
}

// stallWait is how long a capture read waits for audio before it counts a
// stall, as the kernel's blocking read does: max(100 ms, 1.1 buffer times).
func (p *PCM) stallWait() time.Duration {
	return max(100*time.Millisecond, time.Duration(p.bufferSize)*time.Second*11/10/time.Duration(max(p.rate, 1)))
}

// pollIoctl runs a transfer ioctl on the non-blocking capture fd, waiting
// in the runtime poller while it has nothing (EAGAIN); a wait past
// stallWait is reported as EIO, the kernel's stall error.
func (p *PCM) pollIoctl(req uintptr, x *xferi) error {
	rc, err := p.file.SyscallConn()
	if err != nil {
		return err
	}
	if err := p.file.SetReadDeadline(time.Now().Add(p.stallWait())); err != nil {
		return err
	}
	var ierr error
	err = rc.Read(func(uintptr) bool {
		ierr = p.ioctl(req, unsafe.Pointer(x))
		return !errors.Is(ierr, unix.EAGAIN)
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return unix.EIO
	case err != nil:
		return err
	}
	return ierr
}

// WriteFrames plays interleaved samples (len a multiple of Channels) and
// returns the number of frames written.
func (p *PCM) WriteFrames(buf []int16) (int, error) {
	if p.stream != Playback {
		return 0, fmt.Errorf("alsa: %s: write on a capture stream", p.path)
	}
	if len(buf) == 0 {
		return 0, nil
	}
	return p.transfer(ioctlWriteI, buf)
}

// ReadFrames fills buf with captured interleaved samples (len a multiple of
// Channels) and returns the number of frames read.
func (p *PCM) ReadFrames(buf []int16) (int, error) {
	if p.stream != Capture {
		return 0, fmt.Errorf("alsa: %s: read on a playback stream", p.path)
	}
	if len(buf) == 0 {
		return 0, nil
	}
	return p.transfer(ioctlReadI, buf)
}

// Delay returns the stream's delay in frames (SNDRV_PCM_IOCTL_DELAY, which
// syncs the hardware pointer first): for playback, the frames queued ahead
// of the next one written, so a frame written now is heard after Delay
// frames; for capture, the frames captured and not yet read.
func (p *PCM) Delay() (int, error) {
	var d int64
	if err := p.ioctl(ioctlDelay, unsafe.Pointer(&d)); err != nil {
		return 0, fmt.Errorf("alsa: %s: delay: %w", p.path, err)
	}
	return int(d), nil
}

// ReadAvail captures into buf (len a multiple of Channels) what the ring
// holds, waiting until there is at least one period, and returns the
// number of frames read.
func (p *PCM) ReadAvail(buf []int16) (int, error) {
	if p.stream != Capture {
		return 0, fmt.Errorf("alsa: %s: read on a playback stream", p.path)
	}
	if len(buf) == 0 {
		return 0, nil
	}
	p.partial = true
	defer func() { p.partial = false }()
	return p.transfer(ioctlReadI, buf)
}

// Drain waits until everything written has been played. The stream can be
// used again afterwards.
func (p *PCM) Drain() error {
	if err := p.ioctl(ioctlDrain, nil); err != nil && !errors.Is(err, unix.EBADFD) {
		return fmt.Errorf("alsa: %s: drain: %w", p.path, err)
	}
	if err := p.ioctl(ioctlPrepare, nil); err != nil {
		return fmt.Errorf("alsa: %s: prepare: %w", p.path, err)
	}
	return nil
}

// Close stops the stream at once (dropping queued audio) and closes the
// device. Call Drain first to hear the end of a playback.
func (p *PCM) Close() error {
	p.ioctl(ioctlDrop, nil)
	if p.file != nil {
		if err := p.file.Close(); err != nil {
			return fmt.Errorf("alsa: %s: close: %w", p.path, err)
		}
		return nil
	}
	if err := unix.Close(p.fd); err != nil {
		return fmt.Errorf("alsa: %s: close: %w", p.path, err)
	}
	return nil
}

// Package device connects the voice stack to the device's sound card through
// the audio driver (drivers/audio): 8 kHz mono voice frames are converted to
// the rate and channels the hardware takes (QEMU's HDA accepts only stereo
// 16-96 kHz).
package device

import (
	"fmt"
	"time"

	drvaudio "github.com/oemkit/messenger/drivers/audio"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
)

// Speaker plays voice frames on the first playback PCM.
type Speaker struct {
	d       *drvaudio.Device
	delay   time.Duration // of the last frame written
	dropped int
	writes  int
}

// Microphone captures voice frames from the first capture PCM. It blocks
// until a frame of audio is there, so it paces the sender itself.
type Microphone struct {
	d  *drvaudio.Device
	at time.Time // capture time of the last frame's first sample
}

var (
	_ audio.Sink           = (*Speaker)(nil)
	_ media.PlayoutTimer   = (*Speaker)(nil)
	_ media.RealTimeSource = (*Microphone)(nil)
	_ media.CaptureTimer   = (*Microphone)(nil)
)

// The sound card's buffers for a call. Every millisecond queued is a
// millisecond of mouth-to-ear delay, so they are as small as the device
// keeps up with:
//   - capture wakes once per 20 ms voice frame (one packet per wakeup);
//     its ring stays deep (see drivers/audio) because it adds no delay:
//     each period is read as soon as it is complete;
//   - playback starts when two frames (40 ms) are queued: the ring then
//     holds 20 to 40 ms, enough for a writer paced by its own 20 ms
//     clock (a shallower start underruns on every scheduling hiccup under
//     emulation), in 10 ms periods of an 80 ms ring so a late writer has
//     room to catch up.
const (
	capturePeriod  = 20 * time.Millisecond
	playbackPeriod = 10 * time.Millisecond
	playbackRing   = 8 // periods
	playbackStart  = 2 * audio.FrameMillis * time.Millisecond
	// playbackHigh bounds the queue: the sound card's clock and the
	// stream's 20 ms clock drift apart (under emulation by much), and a
	// ring that filled up would hold 80 ms for the rest of the call. In
	// step, a frame waits behind one frame (20 ms: the start threshold
	// less the frame played since); one that would wait behind more than
	// two is dropped instead.
	playbackHigh = 2 * audio.FrameMillis * time.Millisecond
	// delayEvery is how often (in frames) the queue's level is read.
	delayEvery = 5
)

// OpenSpeaker opens playback at 8 kHz mono.
func OpenSpeaker() (*Speaker, error) {
	d, err := drvaudio.OpenPlayback(audio.SampleRate, 1, drvaudio.WithPeriod(playbackPeriod),
		drvaudio.WithPeriods(playbackRing), drvaudio.WithStart(playbackStart))
	if err != nil {
		return nil, fmt.Errorf("device: speaker: %w", err)
	}
	return &Speaker{d: d}, nil
}

// WriteFrame plays one frame.
func (s *Speaker) WriteFrame(f []int16) error {
	if s.delay > playbackHigh {
		// The last frame written still waited over playbackHigh: the
		// ring runs ahead of the card. Skip this one (once) to catch up.
		s.dropped++
		s.delay -= time.Duration(len(f)) * time.Second / audio.SampleRate
		return nil
	}
	if err := s.d.WriteFrames(f); err != nil {
		return err
	}
	// The ring's delay now counts this frame too: its first sample plays
	// once what was queued before it has. The queue's level changes
	// slowly (it is set by the start threshold and drift), so it is read
	// from the card every delayEvery frames, not on every one: each read
	// is a system call that syncs the hardware pointer.
	if s.writes%delayEvery == 0 {
		if d, err := s.d.PlaybackDelay(); err == nil {
			s.delay = max(0, d-time.Duration(len(f))*time.Second/audio.SampleRate)
		}
	}
	s.writes++
	return nil
}

// Dropped returns the frames skipped because the sound card's queue ran
// more than 40 ms ahead.
func (s *Speaker) Dropped() int { return s.dropped }

// PlayoutDelay returns how long after the last WriteFrame its first sample
// is heard (the sound card's queue ahead of it).
func (s *Speaker) PlayoutDelay() time.Duration { return s.delay }

// Close plays out what is queued and closes the PCM.
func (s *Speaker) Close() error { return s.d.Close() }

// OpenMicrophone opens capture at 8 kHz mono.
func OpenMicrophone() (*Microphone, error) {
	d, err := drvaudio.OpenCapture(audio.SampleRate, 1, drvaudio.WithPeriod(capturePeriod))
	if err != nil {
		return nil, fmt.Errorf("device: microphone: %w", err)
	}
	return &Microphone{d: d}, nil
}

// ReadFrame fills f with the next captured samples.
func (m *Microphone) ReadFrame(f []int16) error {
	for got := 0; got < len(f); {
		n, err := m.d.ReadFrames(f[got:])
		if err != nil {
			return fmt.Errorf("device: capture: %w", err)
		}
		got += n
	}
	// The frame's first sample is len(f) samples older than the next one
	// pending.
	m.at = time.Now().Add(-m.d.CaptureAge() - time.Duration(len(f))*time.Second/audio.SampleRate)
	return nil
}

// CapturedAt returns when the first sample of the last frame read was
// captured.
func (m *Microphone) CapturedAt() time.Time { return m.at }

// RealTime reports that capture paces itself.
func (m *Microphone) RealTime() bool { return true }

// Close stops capture.
func (m *Microphone) Close() error { return m.d.Close() }

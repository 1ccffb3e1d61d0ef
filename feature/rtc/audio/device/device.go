// Package device connects the voice stack to the device's sound card through
// the audio driver (drivers/audio): 8 kHz mono voice frames are converted to
// the rate and channels the hardware takes (QEMU's HDA accepts only stereo
// 16-96 kHz).
package device

import (
	"fmt"

	drvaudio "github.com/oemkit/messenger/drivers/audio"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
)

// Speaker plays voice frames on the first playback PCM.
type Speaker struct{ d *drvaudio.Device }

// Microphone captures voice frames from the first capture PCM. It blocks
// until a frame of audio is there, so it paces the sender itself.
type Microphone struct {
	d   *drvaudio.Device
	buf []int16
}

var (
	_ audio.Sink           = (*Speaker)(nil)
	_ media.RealTimeSource = (*Microphone)(nil)
)

// OpenSpeaker opens playback at 8 kHz mono.
func OpenSpeaker() (*Speaker, error) {
	d, err := drvaudio.OpenPlayback(audio.SampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("device: speaker: %w", err)
	}
	return &Speaker{d: d}, nil
}

// WriteFrame plays one frame.
func (s *Speaker) WriteFrame(f []int16) error { return s.d.WriteFrames(f) }

// Close plays out what is queued and closes the PCM.
func (s *Speaker) Close() error { return s.d.Close() }

// OpenMicrophone opens capture at 8 kHz mono.
func OpenMicrophone() (*Microphone, error) {
	d, err := drvaudio.OpenCapture(audio.SampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("device: microphone: %w", err)
	}
	return &Microphone{d: d, buf: make([]int16, audio.FrameSamples)}, nil
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
	return nil
}

// RealTime reports that capture paces itself.
func (m *Microphone) RealTime() bool { return true }

// Close stops capture.
func (m *Microphone) Close() error { return m.d.Close() }

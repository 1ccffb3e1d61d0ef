package media

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
)

// timedMic is a paced source whose frames were "captured" lag before
// ReadFrame returns them.
type timedMic struct {
	audio.Tone
	lag time.Duration
	mu  sync.Mutex
	at  time.Time
}

func (m *timedMic) ReadFrame(f []int16) error {
	time.Sleep(FrameDuration)
	m.mu.Lock()
	m.at = time.Now().Add(-m.lag)
	m.mu.Unlock()
	return m.Tone.ReadFrame(f)
}
func (m *timedMic) RealTime() bool { return true }
func (m *timedMic) CapturedAt() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.at
}

// queuedSpeaker is a sink with a fixed queue ahead of each frame.
type queuedSpeaker struct {
	audio.Buffer
	queue time.Duration
}

func (s *queuedSpeaker) PlayoutDelay() time.Duration { return s.queue }

// TestLatencyStats checks that a timed source and sink give capture and
// playout latencies: at least what they declare, and not much more on
// loopback; and none for plain sources and sinks.
func TestLatencyStats(t *testing.T) {
	a1, a2 := listenPair(t)
	b1, b2 := listenPair(t)
	pcmu, _ := NewCodec("PCMU", 0)
	mic := &timedMic{Tone: audio.Tone{Freq: 1000}, lag: 30 * time.Millisecond}
	spk := &queuedSpeaker{queue: 25 * time.Millisecond}
	sa, err := Start(Config{RTP: a1, RTCP: a2, Remote: b1.LocalAddr().(*net.UDPAddr), Codec: pcmu, EventPT: -1, Source: mic, Sink: spk})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := Start(Config{RTP: b1, RTCP: b2, Remote: a1.LocalAddr().(*net.UDPAddr), Codec: pcmu, EventPT: -1, Source: &audio.Tone{Freq: 600}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for sa.Stats().Playout.Frames < 25 || sa.Stats().Capture.Frames < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("no latency figures after 10 s: %+v", sa.Stats())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := sa.Stats()
	if c := st.Capture; c.Mean < mic.lag || c.Mean > mic.lag+200*time.Millisecond || c.Max < c.Mean {
		t.Errorf("capture latency = mean %v max %v, want mean in [%v, %v]", c.Mean, c.Max, mic.lag, mic.lag+200*time.Millisecond)
	}
	// Playout: the sink's queue plus the jitter buffer's wait. The upper
	// bounds leave room for a loaded machine's scheduling stalls.
	if p := st.Playout; p.Mean < spk.queue || p.Mean > spk.queue+200*time.Millisecond {
		t.Errorf("playout latency = mean %v max %v, want mean in [%v, %v]; %s", p.Mean, p.Max, spk.queue, spk.queue+200*time.Millisecond, st)
	}
	if o := sb.Stats(); o.Capture.Frames != 0 || o.Playout.Frames != 0 {
		t.Errorf("untimed source and sink gave latencies: capture %+v, playout %+v", o.Capture, o.Playout)
	}
}

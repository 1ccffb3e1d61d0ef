package media

import (
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	drvaudio "github.com/oemkit/messenger/drivers/audio"
	"github.com/oemkit/messenger/drivers/audio/convert"
	"github.com/oemkit/messenger/feature/rtc/audio"
)

// BenchmarkCallSecond runs a whole call's media loop, both ends on loopback
// (two Streams sending a tone to each other in real time), and reports the
// process CPU time, heap allocations and GC cycles per second of call.
// Each iteration is one second of call; run it with -benchtime=5x.
func BenchmarkCallSecond(b *testing.B) {
	runCall(b, &audio.Tone{Freq: 1000}, &audio.Buffer{}, &audio.Tone{Freq: 600}, &audio.Buffer{})
}

// runCall runs two Streams on loopback with the given audio ends for b.N
// seconds and reports CPU, allocations, GC cycles and context switches per
// second of call and call end.
func runCall(b *testing.B, srcA audio.Source, sinkA audio.Sink, srcB audio.Source, sinkB audio.Sink) {
	a1, a2 := listenPair(b)
	b1, b2 := listenPair(b)
	pcmu, _ := NewCodec("PCMU", 0)
	sa, err := Start(Config{RTP: a1, RTCP: a2, Remote: b1.LocalAddr().(*net.UDPAddr), Codec: pcmu, EventPT: 101,
		Source: srcA, Sink: sinkA})
	if err != nil {
		b.Fatal(err)
	}
	sb, err := Start(Config{RTP: b1, RTCP: b2, Remote: a1.LocalAddr().(*net.UDPAddr), Codec: pcmu, EventPT: 101,
		Source: srcB, Sink: sinkB})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	defer sa.Close()
	time.Sleep(500 * time.Millisecond) // past the start of playout
	var ru0, ru1 syscall.Rusage
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	runtime.ReadMemStats(&m1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	n := float64(b.N)
	// Two call ends run here: per call end is half of it.
	b.ReportMetric(float64(cpu.Microseconds())/1000/n/2, "cpu-ms/end-s")
	b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/n/2, "allocs/end-s")
	b.ReportMetric(float64(m1.NumGC-m0.NumGC)/n, "gc/s")
	b.ReportMetric(float64(ru1.Nvcsw+ru1.Nivcsw-ru0.Nvcsw-ru0.Nivcsw)/n/2, "ctxsw/end-s")
	if st := sa.Stats(); st.PacketsReceived == 0 {
		b.Fatalf("no packets: %s", st)
	}
}

// hwMic is a source that does a sound card microphone's user-space work:
// it converts 20 ms of hardware-rate stereo capture to a voice frame.
type hwMic struct {
	conv *convert.Converter
	hw   []int16 // one 20 ms period at the hardware rate, stereo
	out  []int16
}

func (m *hwMic) ReadFrame(f []int16) error {
	var err error
	m.out, err = m.conv.Process(m.out[:0], m.hw)
	copy(f, m.out)
	return err
}

// hwSpeaker is a sink that converts each voice frame to the hardware's
// rate and stereo, as a sound card speaker does, and drops it.
type hwSpeaker struct {
	conv *convert.Converter
	out  []int16
}

func (s *hwSpeaker) WriteFrame(f []int16) error {
	var err error
	s.out, err = s.conv.Process(s.out[:0], f)
	return err
}

// BenchmarkDeviceCallSecond is BenchmarkCallSecond with a sound card's
// conversions on both ends: capture from and playback to a stereo card at
// the rate given (48 kHz: what the device ran at; 16 kHz: what alsa.Choose
// picks for 8 kHz voice on QEMU's HDA codec). Run it under qemu-x86_64
// (user-mode TCG) to see what emulation makes of it.
func BenchmarkDeviceCallSecond(b *testing.B) {
	for _, hw := range []int{48000, 16000} {
		b.Run(fmt.Sprint(hw), func(b *testing.B) {
			mic := func() audio.Source {
				c, err := convert.New(hw, 2, audio.SampleRate, 1)
				if err != nil {
					b.Fatal(err)
				}
				return &hwMic{conv: c, hw: drvaudio.Tone(1000, 20*time.Millisecond, hw, 2, 0.5)}
			}
			spk := func() audio.Sink {
				c, err := convert.New(audio.SampleRate, 1, hw, 2)
				if err != nil {
					b.Fatal(err)
				}
				return &hwSpeaker{conv: c}
			}
			runCall(b, mic(), spk(), mic(), spk())
		})
	}
}

package media

import (
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
)

// BenchmarkCallSecond runs a whole call's media loop, both ends on loopback
// (two Streams sending a tone to each other in real time), and reports the
// process CPU time, heap allocations and GC cycles per second of call.
// Each iteration is one second of call; run it with -benchtime=5x.
func BenchmarkCallSecond(b *testing.B) {
	a1, a2 := listenPair(b)
	b1, b2 := listenPair(b)
	pcmu, _ := NewCodec("PCMU", 0)
	var heardA, heardB audio.Buffer
	sa, err := Start(Config{RTP: a1, RTCP: a2, Remote: b1.LocalAddr().(*net.UDPAddr), Codec: pcmu, EventPT: 101,
		Source: &audio.Tone{Freq: 1000}, Sink: &heardA})
	if err != nil {
		b.Fatal(err)
	}
	sb, err := Start(Config{RTP: b1, RTCP: b2, Remote: a1.LocalAddr().(*net.UDPAddr), Codec: pcmu, EventPT: 101,
		Source: &audio.Tone{Freq: 600}, Sink: &heardB})
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

package store

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time this thread has used.
func threadCPU() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// BenchmarkPBKDF2 hashes the load accounts' password with the standard
// library and with pbkdf2SHA256, interleaved:
//
//	go test ./messengerd/store -run XXX -bench PBKDF2 -benchtime 200x
func BenchmarkPBKDF2(b *testing.B) {
	salt := []byte("0123456789abcdef")
	// Interleaved, so both share the machine's load alike; cpu-ms/op is
	// the process's CPU time per hash (the wall time includes waiting for
	// a core on a shared machine).
	b.Run("stdlib-vs-two-compressions", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var std, two time.Duration
		for b.Loop() {
			c0 := threadCPU()
			pbkdf2.Key(sha256.New, "load-test-pw", salt, Iterations, 32)
			c1 := threadCPU()
			pbkdf2SHA256("load-test-pw", salt, Iterations, 32)
			std, two = std+c1-c0, two+threadCPU()-c1
		}
		b.ReportMetric(float64(std)/float64(time.Millisecond)/float64(b.N), "stdlib-cpu-ms/op")
		b.ReportMetric(float64(two)/float64(time.Millisecond)/float64(b.N), "fast-cpu-ms/op")
	})
}

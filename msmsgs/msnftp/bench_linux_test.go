package msnftp

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Benchmarks (numbers in the report to the lead):
//
//	go test -run '^$' -bench 'Compare256MiB' -benchtime 8x ./msmsgs/msnftp/
//	go test -run '^$' -bench 'Concurrent10' -benchtime 3x ./msmsgs/msnftp/
//	go test -run '^$' -bench 'Loopback/msnftp-16MiB$' -benchtime 3x ./msmsgs/msnftp/
//	go test -run '^$' -bench 'Loopback/msnftp-256MiB$' -benchtime 3x ./msmsgs/msnftp/
//
// Each run reports MB/s, B/op (heap allocated per transfer) and
// peak-RSS-MiB (VmHWM of the test process: run one size per process to
// compare sizes; a source file is made only for the sizes run).

var benchSizes = []int64{16 << 20, 256 << 20}

func BenchmarkLoopback(b *testing.B) {
	for _, size := range benchSizes {
		name := fmt.Sprintf("%dMiB", size>>20)
		var once sync.Once
		var src string
		file := func(b *testing.B) string {
			once.Do(func() { src, _ = testFile(b, os.TempDir(), size) })
			return src
		}
		b.Run("plain-"+name, func(b *testing.B) { benchPlain(b, file(b), size) })
		b.Run("msnftp-"+name, func(b *testing.B) { benchMSNFTP(b, file(b), size) })
		if src != "" {
			os.Remove(src)
		}
	}
}

// benchMSNFTP runs whole MSNFTP transfers (listen, handshake, blocks, fsync,
// no-replace rename) of src over loopback.
func benchMSNFTP(b *testing.B, src string, size int64) {
	ctx := context.Background()
	s := newSender(freePorts(b, 1))
	dir := b.TempDir()
	r := rcvIn(dir)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, serr := transfer(b, ctx, s, r, src, "bench.bin")
		if res.err != nil || serr != nil {
			b.Fatalf("transfer = %v, %v", res.err, serr)
		}
		b.StopTimer()
		os.Remove(res.path)
		b.StartTimer()
	}
	b.StopTimer()
	reportRSS(b)
}

// benchPlain is the baseline: the same file copied over one loopback TCP
// connection with io.Copy on both ends (sendfile/splice where Go uses
// them), received into a temporary file that is fsynced and renamed, as
// MSNFTP does.
func benchPlain(b *testing.B, src string, size int64) {
	dir := b.TempDir()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plainOnce(b, src, dir, size, false)
		b.StopTimer()
		os.Remove(filepath.Join(dir, "plain.bin"))
		b.StartTimer()
	}
	b.StopTimer()
	reportRSS(b)
}

// plainOnce copies src over loopback TCP into dir/plain.bin. With
// userspace set, both ends copy through a 256 KiB buffer instead of
// letting io.Copy use sendfile and splice.
func plainOnce(b *testing.B, src, dir string, size int64, userspace bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		f, _ := os.Open(src)
		defer f.Close()
		var err2 error
		if userspace {
			_, err2 = io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{f}, make([]byte, 256<<10))
		} else {
			_, err2 = io.Copy(c, f)
		}
		if err := err2; err != nil {
			b.Error(err)
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	tmp, _ := os.CreateTemp(dir, ".plain-*")
	var n int64
	if userspace {
		n, err = io.CopyBuffer(struct{ io.Writer }{tmp}, struct{ io.Reader }{c}, make([]byte, 256<<10))
	} else {
		n, err = io.Copy(tmp, c)
	}
	if err != nil || n != size {
		b.Fatalf("plain copy = %d, %v", n, err)
	}
	tmp.Sync()
	tmp.Close()
	if err := renameNoReplace(tmp.Name(), filepath.Join(dir, "plain.bin")); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCompare256MiB runs, per iteration, a plain copy (io.Copy:
// sendfile/splice), an MSNFTP transfer and a plain copy through userspace
// buffers of the same 256 MiB file, so that all see the same load, and
// reports the throughputs and MSNFTP as a percentage of each plain copy.
func BenchmarkCompare256MiB(b *testing.B) {
	const size = 256 << 20
	src, _ := testFile(b, b.TempDir(), size)
	dir := b.TempDir()
	s := newSender(freePorts(b, 1))
	r := rcvIn(dir)
	var plain, user, ftp time.Duration
	var cpuPlain, cpuUser, cpuFTP time.Duration
	var ratios []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c0, t0 := cpuTime(), time.Now()
		plainOnce(b, src, dir, size, false)
		c1, t1 := cpuTime(), time.Now()
		res, serr := transfer(b, context.Background(), s, r, src, "bench.bin")
		c2, t2 := cpuTime(), time.Now()
		if res.err != nil || serr != nil {
			b.Fatalf("transfer = %v, %v", res.err, serr)
		}
		os.Remove(res.path)
		os.Remove(filepath.Join(dir, "plain.bin"))
		c3, t3 := cpuTime(), time.Now()
		plainOnce(b, src, dir, size, true)
		c4, t4 := cpuTime(), time.Now()
		os.Remove(filepath.Join(dir, "plain.bin"))
		cpuPlain += c1 - c0
		cpuFTP += c2 - c1
		cpuUser += c4 - c3
		plain += t1.Sub(t0)
		ftp += t2.Sub(t1)
		user += t4.Sub(t3)
		ratios = append(ratios, 100*t1.Sub(t0).Seconds()/t2.Sub(t1).Seconds())
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(plain), "plain-MB/s")
	b.ReportMetric(mbps(user), "plain-userspace-MB/s")
	b.ReportMetric(mbps(ftp), "msnftp-MB/s")
	b.ReportMetric(100*plain.Seconds()/ftp.Seconds(), "msnftp-%-of-plain")
	b.ReportMetric(100*user.Seconds()/ftp.Seconds(), "msnftp-%-of-userspace")
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(cpuPlain), "plain-cpu-ms")
	b.ReportMetric(per(cpuUser), "plain-userspace-cpu-ms")
	b.ReportMetric(per(cpuFTP), "msnftp-cpu-ms")
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "median-pair-%-of-plain")
}

// BenchmarkConcurrent10 runs 10 transfers of 16 MiB at once from one
// sender (ports 10 wide); MB/s is the aggregate.
func BenchmarkConcurrent10(b *testing.B) {
	const size = 16 << 20
	srcDir := b.TempDir()
	var srcs []string
	for i := 0; i < 10; i++ {
		src, _ := testFile(b, srcDir, size)
		srcs = append(srcs, src)
	}
	s := newSender(freePorts(b, 10))
	dir := b.TempDir()
	b.SetBytes(10 * size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for j, src := range srcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, serr := transfer(b, context.Background(), s, rcvIn(dir), src, fmt.Sprintf("f%d", j))
				if res.err != nil || serr != nil {
					b.Errorf("transfer %d = %v, %v", j, res.err, serr)
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportRSS(b)
}

// reportRSS reports the process's peak resident set (VmHWM).
func reportRSS(b *testing.B) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err == nil {
				b.ReportMetric(kb/1024, "peak-RSS-MiB")
			}
		}
	}
}

// cpuTime returns the user+system CPU time this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package resolve

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature"
)

// writeCatalog writes n generated feature.toml files (random acyclic
// requires, 0-3 each) and the real qemu-x86_64 BSP manifest below dir, one
// folder per item as in the project tree. Every item is set by the last one.
func writeCatalog(tb testing.TB, dir string, n int) {
	tb.Helper()
	bsp, err := os.ReadFile(filepath.Join("..", "..", "bsp", "qemu-x86_64", "feature.toml"))
	if err != nil {
		tb.Fatal(err)
	}
	// The BSP requires SYSGEN_COREOS: the generated root item stands in.
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "bsp"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "bsp", "feature.toml"), bsp, 0o644))
	rng := rand.New(rand.NewPCG(uint64(n), 1))
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("SYSGEN_G%07d", i)
		if i == 0 {
			id = "SYSGEN_COREOS"
		}
		var req []string
		if i > 0 {
			for k := rng.IntN(4); k > 0; k-- {
				d := fmt.Sprintf("%q", fmt.Sprintf("SYSGEN_G%07d", rng.IntN(i)))
				if d == `"SYSGEN_G0000000"` {
					d = `"SYSGEN_COREOS"`
				}
				req = append(req, d)
			}
		}
		sub := filepath.Join(dir, fmt.Sprintf("g%03d", i/1000), fmt.Sprintf("i%07d", i))
		must(os.MkdirAll(sub, 0o755))
		body := fmt.Sprintf("id = %q\ntitle = \"generated item %d\"\nname_source = \"chosen\"\nlicense = \"BSD-3-Clause\"\ndescription = \"A generated item for the load benchmark.\"\nrequires = [%s]\n\n[settings.\"gen.i%d\"]\ntype = \"int\"\ndefault = %d\nmeaning = \"a generated setting\"\n",
			id, i, strings.Join(req, ", "), i, i)
		must(os.WriteFile(filepath.Join(sub, "feature.toml"), []byte(body), 0o644))
	}
}

// BenchmarkLoadResolveFromDisk loads a catalog of feature.toml files from
// disk and resolves a design that selects every item: the whole of what
// `sysgen resolve` does before printing.
//
//	go test ./sysgen/resolve -run XXX -bench LoadResolveFromDisk -benchtime 10x
func BenchmarkLoadResolveFromDisk(b *testing.B) {
	for _, n := range []int{1000, 10_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeCatalog(b, dir, n)
			set := make([]string, 0, n)
			for i := 1; i < n; i++ {
				set = append(set, fmt.Sprintf("SYSGEN_G%07d", i))
			}
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				cat, err := feature.Load(dir)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := Resolve(cat, Design{BSP: "qemu-x86_64", Set: set}); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start: on a machine
// whose cores other work shares, the wall time per op (ns/op) includes
// waiting for a core; cpu-ms/op does not, and cpu-ms/op divided by the
// cores is the wall time an otherwise idle machine would take at best.
func reportCPU(b *testing.B, start time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

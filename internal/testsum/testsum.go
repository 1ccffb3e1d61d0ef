// Package testsum reads `go test -json` events and prints what a person
// wants from a long test run: the output of failing tests as they fail,
// each package's result line, and at the end the skipped tests per package
// (with their reasons) followed by go test's own result lines again, so the
// run ends with go test's summary.
package testsum

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Event is one line of `go test -json` (see `go doc test2json`).
type Event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// Skip is a skipped test and the reason it printed.
type Skip struct {
	Package, Test, Reason string
}

// Summary is what a run produced.
type Summary struct {
	// Results are go test's per-package result lines ("ok  \tpkg\t1.2s").
	Results []string
	// Skips are the skipped tests, in the order they were reported.
	Skips []Skip
	// Failed counts failed tests and packages (a package that does not
	// build counts once).
	Failed int
	// Passed counts passed tests.
	Passed int
}

// maxTestOutput bounds the output kept for one running test (a test that
// prints without end must not exhaust memory); the tail is what matters.
const maxTestOutput = 1 << 20

// Run reads events from r, writes failing tests' output and package result
// lines to w as they happen, and returns the summary. Lines that are not
// JSON (build errors from go vet or the compiler) are copied to w.
func Run(r io.Reader, w io.Writer) (*Summary, error) {
	s := &Summary{}
	out := map[string]*strings.Builder{} // package/test → output so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e Event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			if e.Test == "" {
				// Package-level output: result lines and build failures.
				if isResultLine(e.Output) {
					s.Results = append(s.Results, strings.TrimRight(e.Output, "\n"))
				}
				if !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" && e.Output != "FAIL\n" {
					io.WriteString(w, e.Output)
				}
				continue
			}
			b := out[key]
			if b == nil {
				b = &strings.Builder{}
				out[key] = b
			}
			b.WriteString(e.Output)
			if b.Len() > 2*maxTestOutput {
				// Keep the last maxTestOutput bytes: a failure's message
				// and stack come at the end.
				tail := b.String()[b.Len()-maxTestOutput:]
				b.Reset()
				b.WriteString(tail)
			}
		case "build-output":
			io.WriteString(w, e.Output)
		case "pass":
			if e.Test != "" {
				s.Passed++
			}
			delete(out, key)
		case "skip":
			if e.Test != "" {
				s.Skips = append(s.Skips, Skip{e.Package, e.Test, skipReason(out[key])})
			}
			delete(out, key)
		case "fail":
			s.Failed++
			if b := out[key]; b != nil {
				io.WriteString(w, b.String())
			}
			delete(out, key)
		}
	}
	return s, sc.Err()
}

func isResultLine(o string) bool {
	for _, p := range []string{"ok  \t", "FAIL\t", "?   \t"} {
		if strings.HasPrefix(o, p) {
			return true
		}
	}
	return false
}

// skipReason is the message a skipped test printed: its output without the
// === RUN / --- SKIP framing lines.
func skipReason(b *strings.Builder) string {
	if b == nil {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(b.String(), "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		keep = append(keep, t)
	}
	return strings.Join(keep, " | ")
}

// Print writes the skip summary per package, then go test's result lines.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "\n== skipped tests per package (%d)\n", len(s.Skips))
	byPkg := map[string][]Skip{}
	for _, k := range s.Skips {
		byPkg[k.Package] = append(byPkg[k.Package], k)
	}
	pkgs := make([]string, 0, len(byPkg))
	for p := range byPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	if len(pkgs) == 0 {
		fmt.Fprintln(w, "none")
	}
	for _, p := range pkgs {
		fmt.Fprintf(w, "%s: %d skipped\n", p, len(byPkg[p]))
		for _, k := range byPkg[p] {
			fmt.Fprintf(w, "    %s: %s\n", k.Test, k.Reason)
		}
	}
	fmt.Fprintf(w, "\n== go test summary (%d passed, %d skipped, %d failed)\n", s.Passed, len(s.Skips), s.Failed)
	res := append([]string(nil), s.Results...)
	sort.SliceStable(res, func(i, j int) bool { return pkgOf(res[i]) < pkgOf(res[j]) })
	for _, l := range res {
		fmt.Fprintln(w, l)
	}
	if s.Failed > 0 {
		fmt.Fprintln(w, "FAIL")
	} else {
		fmt.Fprintln(w, "PASS")
	}
}

func pkgOf(result string) string {
	f := strings.Split(result, "\t")
	if len(f) > 1 {
		return f[1]
	}
	return result
}

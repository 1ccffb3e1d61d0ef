package testsum

import (
	"os"
	"strings"
	"testing"
)

// testdata/run.json is real `go test -json` output of three packages: one
// with a passing, a skipped and a failing test, one that does not build, one
// without tests.
func TestRun(t *testing.T) {
	f, err := os.Open("testdata/run.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var live strings.Builder
	s, err := Run(f, &live)
	if err != nil {
		t.Fatal(err)
	}
	if s.Passed != 1 || len(s.Skips) != 1 || s.Failed != 3 {
		t.Errorf("passed %d, skipped %d, failed %d; want 1, 1, 3 (a test, its package, the package that does not build)", s.Passed, len(s.Skips), s.Failed)
	}
	if got := s.Skips[0]; got.Package != "tsum/p" || got.Test != "TestSkip" || !strings.Contains(got.Reason, "apt-get install widget") {
		t.Errorf("skip = %+v", got)
	}
	for _, want := range []string{"boom", "context line", "undefined: undefined", "FAIL\ttsum/q [build failed]"} {
		if !strings.Contains(live.String(), want) {
			t.Errorf("live output lacks %q:\n%s", want, live.String())
		}
	}
	if strings.Contains(live.String(), "p_test.go:3: fine") {
		t.Errorf("live output has a passing test's log:\n%s", live.String())
	}
	var end strings.Builder
	s.Print(&end)
	out := end.String()
	skipAt, resAt := strings.Index(out, "skipped tests per package"), strings.Index(out, "FAIL\ttsum/p")
	if skipAt < 0 || resAt < skipAt {
		t.Errorf("summary must list skips, then go test's result lines:\n%s", out)
	}
	if !strings.HasSuffix(out, "FAIL\n") {
		t.Errorf("summary must end with FAIL:\n%s", out)
	}
}

// TestRunKeepsTail checks that a failing test that printed more than
// maxTestOutput shows its last lines, where the failure is.
func TestRunKeepsTail(t *testing.T) {
	var in strings.Builder
	line := `{"Action":"output","Package":"p","Test":"TestX","Output":"` + strings.Repeat("x", 1000) + `\n"}` + "\n"
	for range 3 * maxTestOutput / 1000 {
		in.WriteString(line)
	}
	in.WriteString(`{"Action":"output","Package":"p","Test":"TestX","Output":"x_test.go:9: the failure\n"}` + "\n")
	in.WriteString(`{"Action":"fail","Package":"p","Test":"TestX"}` + "\n")
	var live strings.Builder
	if _, err := Run(strings.NewReader(in.String()), &live); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(live.String(), "the failure\n") {
		t.Errorf("live output (%d bytes) does not end with the failure", live.Len())
	}
	if live.Len() > 2*maxTestOutput {
		t.Errorf("live output is %d bytes, want at most %d", live.Len(), 2*maxTestOutput)
	}
}

func FuzzRun(f *testing.F) {
	b, _ := os.ReadFile("testdata/run.json")
	f.Add(b)
	f.Add([]byte(`{"Action":"fail"}` + "\n" + `not json`))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Run(strings.NewReader(string(in)), new(strings.Builder))
		if err == nil {
			s.Print(new(strings.Builder))
		}
	})
}

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

// A test that prints without end keeps its last output, where the failure is.
func TestLongOutputKeepsTail(t *testing.T) {
	var in strings.Builder
	line := strings.Repeat("x", 1000)
	for i := 0; i < 3000; i++ {
		in.WriteString(`{"Action":"output","Package":"p","Test":"TestLoud","Output":"` + line + `\n"}` + "\n")
	}
	in.WriteString(`{"Action":"output","Package":"p","Test":"TestLoud","Output":"the real failure\n"}` + "\n")
	in.WriteString(`{"Action":"fail","Package":"p","Test":"TestLoud"}` + "\n")
	var out strings.Builder
	if _, err := Run(strings.NewReader(in.String()), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), "the real failure\n") || out.Len() > 2*maxTestOutput+100 {
		t.Errorf("output of %d bytes does not end with the failure", out.Len())
	}
}

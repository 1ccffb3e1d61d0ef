package timesvc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/timesvc"
	"github.com/oemkit/messenger/feature/timesvc/timesvctest"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/sysgen/cli"
)

// rtcBase is where the guest's hardware clock starts (QEMU -rtc base=):
// years behind, as on a board whose RTC battery is flat.
var rtcBase = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// lineTimes records when each console line arrived on the host.
type lineTimes struct {
	// onLine, if set, sees each line as it arrives.
	onLine func(string)
	mu     sync.Mutex
	buf    bytes.Buffer
	lines  []string
	at     []time.Time
}

func (l *lineTimes) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.buf.Write(p)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		line := string(l.buf.Next(i + 1))
		l.lines = append(l.lines, line)
		l.at = append(l.at, now)
		if l.onLine != nil {
			l.onLine(line)
		}
	}
	return len(p), nil
}

// arrival returns when the first line containing s arrived.
func (l *lineTimes) arrival(s string) (time.Time, string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, line := range l.lines {
		if strings.Contains(line, s) {
			return l.at[i], line, true
		}
	}
	return time.Time{}, "", false
}

func (l *lineTimes) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// TestQEMUSetsClock builds the Messenger image (which carries the time
// service through SYSGEN_AUTH_KERBEROS -> SYSGEN_TIMESVC) with the sysgen
// CLI, boots it under TCG with the guest's hardware clock on 2020-01-01 and
// chronyd on the host as timesvc.server (10.0.2.2:<port> from the guest),
// and checks that the device steps its clock by the years it was off, that
// the check after the step finds it within the step threshold, and that the
// guest's corrected clock agrees with the host's when the DEVICE-CLOCK line
// arrives.
func TestQEMUSetsClock(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and boots a real image; skipped in -short mode")
	}
	if _, err := os.Stat("/usr/bin/apt-get"); err != nil {
		testenv.Missing(t, "needs apt-get and dpkg-deb to fetch the Debian kernel (a Debian host)")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	ntp := timesvctest.StartChrony(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	design := filepath.Join(work, "osdesign.toml")
	server := fmt.Sprintf("10.0.2.2:%d", ntp.Port)
	if err := os.WriteFile(design, []byte(fmt.Sprintf(`bsp = "qemu-x86_64"
[flags]
SYSGEN_MESSENGER = true
[settings]
"timesvc.server" = %q
"timesvc.poll_min" = "16s"
`, server)), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "img")
	var out, errb bytes.Buffer
	c := &cli.Context{Args: []string{"build", "--design", design, "-o", dir}, Dir: root, Stdout: &out, Stderr: &errb}
	start := time.Now()
	if err := c.Execute(ctx); err != nil {
		t.Fatalf("sysgen build --design %s: exit %d: %v\n%s", design, cli.Code(err), err, errb.String())
	}
	t.Logf("build: %v: %s", time.Since(start).Round(time.Second), strings.TrimSpace(out.String()))
	m, err := image.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !hasService(m, "timesvc") {
		t.Fatalf("image services = %+v, want timesvc", m.Services)
	}

	// After the first sync, keep the device running until its next poll
	// (timesvc.poll_min = 16 s later) has measured the clock again.
	bootCtx, stopBoot := context.WithCancel(ctx)
	defer stopBoot()
	var polls []string
	con := &lineTimes{onLine: func(line string) {
		if strings.HasPrefix(line, "timesvc: "+server+" offset ") {
			polls = append(polls, strings.TrimSpace(line))
			if len(polls) == 2 {
				stopBoot()
			}
		}
	}}
	bootStart := time.Now()
	res, err := qemu.Boot(bootCtx, dir, qemu.Options{Console: con, Timeout: 8 * time.Minute, WaitFor: []string{timesvc.Marker}, WaitExit: true,
		ExtraArgs: []string{"-rtc", "base=" + rtcBase.UTC().Format("2006-01-02T15:04:05")}})
	if err != nil {
		t.Fatalf("Boot = %v\nchronyd:\n%s", err, ntp.Log())
	}
	seen, line, ok := con.arrival(timesvc.Marker + " ")
	if !ok {
		t.Fatalf("no %s line on the console", timesvc.Marker)
	}
	var st timesvc.Status
	if err := json.Unmarshal([]byte(res.Markers[timesvc.Marker]), &st); err != nil {
		t.Fatalf("%s line %q: %v", timesvc.Marker, line, err)
	}
	_, svcLine, _ := con.arrival("SERVICE timesvc: started")
	readyAt, _, _ := con.arrival(qemu.MarkerReady)
	t.Logf("console: %s", strings.TrimSpace(svcLine))
	t.Logf("console: %s", strings.TrimSpace(line))

	if st.Server != server || !st.Synced || st.Action != "step" || st.Steps != 1 {
		t.Errorf("device clock status = %+v, want synced by one step from %s", st, server)
	}
	// The guest clock started at rtcBase when QEMU did; what the device
	// corrected is the time from rtcBase to QEMU's start (the RTC counts
	// whole seconds, the kernel reads it once at boot).
	want := bootStart.Sub(rtcBase)
	if d := time.Duration(st.BootOffsetNS) - want; d < -5*time.Second || d > 5*time.Second {
		t.Errorf("boot offset = %v, want %v (QEMU start minus -rtc base) within 5s", time.Duration(st.BootOffsetNS), want)
	}
	if !st.Verified || time.Duration(st.VerifyOffsetNS).Abs() > timesvc.DefaultStepThreshold {
		t.Errorf("check after the step: verified %v offset %v, want within %v", st.Verified, time.Duration(st.VerifyOffsetNS), timesvc.DefaultStepThreshold)
	}
	// The guest's clock when it printed the line against the host's when
	// the line arrived.
	skew := seen.Sub(st.LastSync)
	if skew.Abs() > time.Second {
		t.Errorf("guest clock %v when it printed %s, host clock %v when it arrived: %v apart, want within 1s", st.LastSync, timesvc.Marker, seen, skew)
	}
	// The next poll: the clock stayed within a few SNTP delays of chronyd.
	var next time.Duration
	if len(polls) < 2 {
		t.Errorf("the device did not poll again within its 16 s poll interval; poll lines %q", polls)
	} else {
		var delay time.Duration
		var stratum int
		var action string
		var off, del string
		if _, err := fmt.Sscanf(strings.TrimPrefix(polls[1], "timesvc: "+server+" "), "offset %s delay %s stratum %d: %s", &off, &del, &stratum, &action); err != nil {
			t.Fatalf("poll line %q: %v", polls[1], err)
		}
		next, _ = time.ParseDuration(off)
		delay, _ = time.ParseDuration(del)
		if action != "slew;" || next.Abs() > 50*time.Millisecond {
			t.Errorf("second poll %q: want a slew of less than 50ms", polls[1])
		}
		t.Logf("console: %s (delay %v)", polls[1], delay)
	}
	t.Logf("MEASURE next poll (16 s later) offset %v; boot offset %v corrected; check after the step: offset %v (SNTP, guest vs chronyd); sample delay %v; guest clock vs host at the console line %v; clock stepped %d ms after the service started; DEVICE-CLOCK line (after the check burst) %v after DEVICE-READY, %v after QEMU started (PVH %v)",
		next, time.Duration(st.BootOffsetNS), time.Duration(st.VerifyOffsetNS), time.Duration(st.DelayNS), skew, st.FirstSyncMS, seen.Sub(readyAt).Round(time.Millisecond), seen.Sub(bootStart).Round(time.Millisecond), res.PVH)
	if t.Failed() {
		t.Logf("console:\n%s\nchronyd:\n%s", con.String(), ntp.Log())
	}
}

func hasService(m *image.Manifest, name string) bool {
	for _, s := range m.Services {
		if s.Name == name {
			return true
		}
	}
	return false
}

package qemu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/marker"
)

// ErrExited is wrapped when QEMU stopped before what was waited for
// appeared on the console.
var ErrExited = errors.New("qemu: QEMU exited")

// ErrPortInUse is wrapped when a host port to forward is taken.
var ErrPortInUse = errors.New("qemu: host port in use")

// Forward forwards TCP connections to 127.0.0.1:Host on the host to the
// guest's port Guest (QEMU user networking's hostfwd).
type Forward struct {
	Guest int
	// Host is the host port; 0 picks a free one (VM.HostPort tells which).
	Host int
}

// maxConsole bounds the console text a VM keeps (the oldest is dropped).
const maxConsole = 32 << 20

// VM is a running QEMU guest and its serial console. One goroutine reads
// the console into a buffer, so no byte is lost between calls: Expect
// consumes the buffer up to each match, the whole log stays available
// (Console), and device markers are timed as they arrive.
type VM struct {
	argv  []string
	wav   string
	pvh   bool
	hosts map[int]int // guest port -> host port
	cmd   *exec.Cmd
	stdin io.WriteCloser
	start time.Time

	mu      sync.Mutex
	data    []byte // console bytes from offset base on
	base    int    // absolute offset of data[0]
	cursor  int    // absolute offset Expect searches from
	line    int    // absolute offset of the current line's start
	markers map[string]Marker
	notify  chan struct{} // closed and replaced when data arrives
	copyTo  io.Writer

	exited  chan struct{} // closed when QEMU has exited
	waitErr error
	eof     chan struct{} // closed when the console reader is done
	stopped atomic.Bool
	rmWAV   bool
}

// Marker is a device marker seen on the console.
type Marker struct {
	// Payload is the text after the marker (a JSON object).
	Payload string
	// At is the time from QEMU's start to the marker's line.
	At time.Duration
}

// Start boots the image in dir as its manifest says and returns once QEMU
// runs (and holds its forwarded ports). Stop or Kill it when done.
func Start(ctx context.Context, dir string, opts Options) (*VM, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return StartManifest(ctx, m, dir, opts)
}

// StartManifest is Start with the manifest given; its kernel and initramfs
// paths are relative to dir (or absolute).
func StartManifest(ctx context.Context, m *image.Manifest, dir string, opts Options) (*VM, error) {
	if len(m.QEMU) == 0 {
		return nil, fmt.Errorf("qemu: %s has no QEMU command line; the BSP cannot be booted in QEMU", dir)
	}
	if _, err := exec.LookPath(m.QEMU[0]); err != nil {
		return nil, fmt.Errorf("qemu: %s not found (apt-get install %s): %w", m.QEMU[0], aptPackage(m.QEMU[0]), err)
	}
	if err := PrepareState(m, dir); err != nil {
		return nil, err
	}
	wav, rmWAV := "", false
	if usesWAV(m) {
		wav = opts.WAV
		if wav == "" {
			f, err := os.CreateTemp("", "sysgen-boot-*.wav")
			if err != nil {
				return nil, fmt.Errorf("qemu: %w", err)
			}
			f.Close()
			wav, rmWAV = f.Name(), true
		}
	}
	kernel, pvh := joinDir(dir, m.Kernel.File), false
	if !opts.BzImage {
		kernel, pvh = fastKernel(m, dir)
	}
	base := append(argv(m, dir, kernel, wav, opts.Append), opts.ExtraArgs...)
	// A free port picked by us may be taken by someone else before QEMU
	// binds it: try again with new ones.
	for try := 0; ; try++ {
		hosts, auto, err := pickPorts(opts.Forward)
		if err != nil {
			return nil, err
		}
		args, err := withForwards(base, opts.Forward, hosts)
		if err != nil {
			return nil, err
		}
		v, err := launch(ctx, args, hosts, opts.Console)
		if err == nil {
			v.wav, v.pvh, v.rmWAV = wav, pvh, rmWAV
			return v, nil
		}
		if !errors.Is(err, ErrPortInUse) || !auto || try == 2 {
			if rmWAV {
				os.Remove(wav)
			}
			return nil, err
		}
	}
}

func joinDir(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("qemu: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pickPorts chooses the host port of each forward: a free one for Host 0,
// else the one asked for, checked to be free. auto is true when any was
// picked.
func pickPorts(fwd []Forward) (map[int]int, bool, error) {
	hosts := map[int]int{}
	auto := false
	for _, f := range fwd {
		if f.Guest <= 0 || f.Guest > 65535 || f.Host < 0 || f.Host > 65535 {
			return nil, false, fmt.Errorf("qemu: forward guest port %d to host port %d: ports are 1-65535 (host 0 picks a free one)", f.Guest, f.Host)
		}
		if f.Host == 0 {
			p, err := FreePort()
			if err != nil {
				return nil, false, err
			}
			hosts[f.Guest], auto = p, true
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", f.Host))
		if err != nil {
			return nil, false, fmt.Errorf("%w: 127.0.0.1:%d (to forward to the guest's port %d) is taken: stop the program that holds it (ss -ltnp 'sport = %d' names it) or forward another port", ErrPortInUse, f.Host, f.Guest, f.Host)
		}
		l.Close()
		hosts[f.Guest] = f.Host
	}
	return hosts, auto, nil
}

// withForwards adds hostfwd rules to the first user-networking netdev.
func withForwards(argv []string, fwd []Forward, hosts map[int]int) ([]string, error) {
	if len(fwd) == 0 {
		return argv, nil
	}
	out := append([]string(nil), argv...)
	for i := 1; i < len(out); i++ {
		if out[i-1] == "-netdev" && strings.HasPrefix(out[i], "user,") {
			for _, f := range fwd {
				out[i] += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", hosts[f.Guest], f.Guest)
			}
			return out, nil
		}
	}
	return nil, errors.New("qemu: the BSP's QEMU command line has no user-networking netdev (-netdev user,...) to forward ports through")
}

// launch starts QEMU with its console on a pipe read by one goroutine.
func launch(ctx context.Context, args []string, hosts map[int]int, copyTo io.Writer) (*VM, error) {
	v := &VM{argv: args, hosts: hosts, markers: map[string]Marker{}, notify: make(chan struct{}),
		copyTo: copyTo, exited: make(chan struct{}), eof: make(chan struct{})}
	v.cmd = exec.Command(args[0], args[1:]...)
	stdin, err := v.cmd.StdinPipe() // the serial console's input
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	v.stdin = stdin
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	v.cmd.Stdout, v.cmd.Stderr = pw, pw
	setProcAttr(v.cmd)
	v.start = time.Now()
	if err := v.cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, fmt.Errorf("qemu: start %s: %w", args[0], err)
	}
	pw.Close()
	go v.read(pr)
	go func() {
		v.waitErr = v.cmd.Wait()
		close(v.exited)
		// A child QEMU left behind may still hold the console pipe: end
		// its process group, then stop reading.
		select {
		case <-v.eof:
			return
		case <-time.After(2 * time.Second):
		}
		kill(v.cmd)
		select {
		case <-v.eof:
		case <-time.After(2 * time.Second):
			pr.Close()
		}
	}()
	if err := v.waitForwards(ctx); err != nil {
		v.Kill()
		return nil, err
	}
	return v, nil
}

// waitForwards returns once QEMU holds every forwarded host port, or an
// error naming the port it could not bind.
func (v *VM) waitForwards(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		held := true
		for _, h := range v.hosts {
			if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", h)); err == nil {
				l.Close()
				held = false
			}
		}
		if held {
			return nil
		}
		select {
		case <-v.exited:
			<-v.eof
			con := v.Console()
			for g, h := range v.hosts {
				if strings.Contains(con, fmt.Sprintf("tcp:127.0.0.1:%d-:%d", h, g)) && strings.Contains(con, "host forwarding") {
					return fmt.Errorf("%w: QEMU could not forward 127.0.0.1:%d to the guest's port %d: stop the program that holds it (ss -ltnp 'sport = %d' names it) or forward another port", ErrPortInUse, h, g, h)
				}
			}
			return fmt.Errorf("%w at start (%v): %s", ErrExited, v.waitErr, Tail(con, 10))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("qemu: QEMU did not open its forwarded ports %v within 30s", v.hosts)
		}
	}
}

// read is the one console reader.
func (v *VM) read(r *os.File) {
	defer close(v.eof)
	defer r.Close()
	b := make([]byte, 32<<10)
	for {
		n, err := r.Read(b)
		if n > 0 {
			v.add(b[:n])
		}
		if err != nil {
			v.mu.Lock()
			v.scanLines(true)
			close(v.notify)
			v.notify = make(chan struct{})
			v.mu.Unlock()
			return
		}
	}
}

func (v *VM) add(b []byte) {
	now := time.Since(v.start)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.copyTo != nil {
		v.copyTo.Write(b)
	}
	v.data = append(v.data, b...)
	v.scanLinesAt(false, now)
	if len(v.data) > maxConsole {
		drop := len(v.data) - maxConsole/2
		v.data = append([]byte(nil), v.data[drop:]...)
		v.base += drop
		v.cursor = max(v.cursor, v.base)
		v.line = max(v.line, v.base)
	}
	close(v.notify)
	v.notify = make(chan struct{})
}

func (v *VM) scanLines(final bool) { v.scanLinesAt(final, time.Since(v.start)) }

// scanLinesAt records the markers of the complete lines since v.line (and
// of the last partial line when final).
func (v *VM) scanLinesAt(final bool, now time.Duration) {
	for {
		rest := v.data[v.line-v.base:]
		i := strings.IndexByte(string(rest), '\n')
		if i < 0 {
			if final && len(rest) > 0 {
				v.mark(string(rest), now)
				v.line += len(rest)
			}
			return
		}
		v.mark(string(rest[:i]), now)
		v.line += i + 1
	}
}

func (v *VM) mark(line string, now time.Duration) {
	if strings.Contains(line, marker.Init) {
		if _, ok := v.markers[marker.Init]; !ok {
			v.markers[marker.Init] = Marker{At: now}
		}
	}
	if name, payload, ok := marker.Parse(line); ok {
		if _, seen := v.markers[name]; !seen {
			v.markers[name] = Marker{Payload: payload, At: now}
		}
	}
}

// Argv is the QEMU command line that runs.
func (v *VM) Argv() []string { return v.argv }

// PVH reports whether the x86 kernel was started through its PVH entry.
func (v *VM) PVH() bool { return v.pvh }

// WAV is the file QEMU writes the guest's audio to ("" without audio).
func (v *VM) WAV() string { return v.wav }

// HostPort returns the host port forwarded to the guest's port (0 if none).
func (v *VM) HostPort(guest int) int { return v.hosts[guest] }

// Started is when QEMU was started.
func (v *VM) Started() time.Time { return v.start }

// Console returns the console output so far (the last 16-32 MB of it).
func (v *VM) Console() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return string(v.data)
}

// Marker returns the first occurrence of a marker (marker.Ready, ...).
func (v *VM) Marker(name string) (Marker, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	m, ok := v.markers[name]
	return m, ok
}

// Exited is closed when QEMU has exited.
func (v *VM) Exited() <-chan struct{} { return v.exited }

// Write types p into the serial console.
func (v *VM) Write(p []byte) (int, error) {
	n, err := v.stdin.Write(p)
	if err != nil {
		return n, fmt.Errorf("qemu: write to the console: %w", err)
	}
	return n, nil
}

// wait blocks until cond (called with v.mu held) is true, QEMU's console
// ends, the timeout passes or ctx is done. what names the wait in errors.
func (v *VM) wait(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		v.mu.Lock()
		ok := cond()
		notify := v.notify
		v.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-notify:
		case <-v.eof:
			// The console ended: one last look at what it said.
			v.mu.Lock()
			ok = cond()
			v.mu.Unlock()
			if ok {
				return nil
			}
			<-v.exited
			return fmt.Errorf("%w (%v) before %s appeared; last console lines:\n%s", ErrExited, v.waitErr, what, Tail(v.Console(), 15))
		case <-deadline:
			return fmt.Errorf("qemu: no %s on the console within %v; last console lines:\n%s", what, timeout, Tail(v.Console(), 15))
		case <-ctx.Done():
			return fmt.Errorf("qemu: waiting for %s: %w", what, ctx.Err())
		}
	}
}

// Expect waits until re matches the console output after the previous
// match, consumes the output up to the end of the match and returns the
// match and its groups. A timeout of 0 waits as long as ctx allows.
func (v *VM) Expect(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	var groups []string
	err := v.wait(ctx, timeout, strconv.Quote(re.String()), func() bool {
		b := v.data[v.cursor-v.base:]
		loc := re.FindSubmatchIndex(b)
		if loc == nil {
			return false
		}
		for i := 0; i+1 < len(loc); i += 2 {
			if loc[i] >= 0 {
				groups = append(groups, string(b[loc[i]:loc[i+1]]))
			} else {
				groups = append(groups, "")
			}
		}
		v.cursor += loc[1]
		return true
	})
	return groups, err
}

// ExpectString is Expect for a literal string.
func (v *VM) ExpectString(ctx context.Context, s string, timeout time.Duration) error {
	_, err := v.Expect(ctx, regexp.MustCompile(regexp.QuoteMeta(s)), timeout)
	return err
}

// WaitMarker waits for the first occurrence of a device marker (or
// marker.Init), wherever it is in the console (it does not move Expect's
// position). Markers are timed when their line ends.
func (v *VM) WaitMarker(ctx context.Context, name string, timeout time.Duration) (Marker, error) {
	var m Marker
	err := v.wait(ctx, timeout, name, func() bool {
		var ok bool
		m, ok = v.markers[name]
		return ok
	})
	return m, err
}

var runSeq atomic.Int64

// Run types cmd into the shell on the console and returns what it printed
// (carriage returns removed) and its exit status. The guest must have a
// POSIX-like shell on its console (SYSGEN_SHELL).
func (v *VM) Run(ctx context.Context, cmd string, timeout time.Duration) (string, int, error) {
	n := runSeq.Add(1)
	// The shell joins the quoted halves, so the echoed command line itself
	// never matches the markers. Services log to the same console: the
	// begin line is one printf (one write, which the console keeps whole;
	// echo writes its newline apart), and what services print while the
	// command runs is part of the output.
	line := fmt.Sprintf("printf '@@B%d''@@\\n'; %s; echo @@RC%d=$?''@@\n", n, cmd, n)
	if _, err := v.Write([]byte(line)); err != nil {
		return "", -1, err
	}
	re := regexp.MustCompile(fmt.Sprintf(`(?s)@@B%d@@\r?\n(.*?)@@RC%d=([0-9]+)@@`, n, n))
	m, err := v.Expect(ctx, re, timeout)
	if err != nil {
		return "", -1, fmt.Errorf("qemu: shell command %q: %w", cmd, err)
	}
	rc, _ := strconv.Atoi(m[2])
	return strings.ReplaceAll(m[1], "\r", ""), rc, nil
}

// Wait waits until QEMU exits by itself (the guest powers off) and returns
// its exit error.
func (v *VM) Wait(ctx context.Context) error {
	select {
	case <-v.exited:
		<-v.eof
		return v.waitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop ends QEMU cleanly: SIGTERM (QEMU then finishes the WAV file), then
// SIGKILL to its process group after 10 s. It waits until QEMU and the
// console reader are done. Calling it again does nothing.
func (v *VM) Stop() error { return v.end(10 * time.Second) }

// Kill cuts the guest's power: SIGKILL at once.
func (v *VM) Kill() error { return v.end(0) }

func (v *VM) end(grace time.Duration) error {
	if v.stopped.Swap(true) {
		<-v.exited
		<-v.eof
		return nil
	}
	select {
	case <-v.exited:
	default:
		if grace > 0 {
			terminate(v.cmd)
			select {
			case <-v.exited:
			case <-time.After(grace):
				kill(v.cmd)
				<-v.exited
			}
		} else {
			kill(v.cmd)
			<-v.exited
		}
	}
	v.stdin.Close()
	<-v.eof
	if v.rmWAV {
		os.Remove(v.wav)
	}
	var ee *exec.ExitError
	if errors.As(v.waitErr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return nil // the signal we sent
		}
	}
	return v.waitErr
}

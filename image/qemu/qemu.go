// Package qemu boots a built image folder in QEMU the way its BSP manifest
// says (TCG, user networking, audio to a WAV file, serial console captured)
// and waits for the device init's ready marker.
package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/image"
)

// Console markers printed by u-root's init and the device init.
const (
	MarkerInit    = "Welcome to u-root!"
	MarkerUinit   = "DEVICEINIT-START"
	MarkerDrivers = "DEVICE-DRIVERS"
	MarkerReady   = "DEVICE-READY"
	MarkerTest    = "DEVICE-TEST"
)

// ErrNotReady is wrapped when the device did not report ready in time or
// QEMU stopped first.
var ErrNotReady = errors.New("qemu: device did not report ready")

// Options change how Boot runs QEMU.
type Options struct {
	// WAV is where QEMU writes the guest's audio; "" means a file in the
	// system temp folder, removed unless KeepWAV is set.
	WAV string
	// Append is added to the kernel command line (e.g. devicetest.tone=1000).
	Append []string
	// Console receives the console output as it arrives (may be nil).
	Console io.Writer
	// Timeout bounds the whole boot; 0 means 3 minutes.
	Timeout time.Duration
	// WaitFor are markers to wait for after ready (e.g. MarkerTest).
	WaitFor []string
	// WaitExit waits for QEMU to exit by itself (guest power off) after
	// the markers instead of stopping it.
	WaitExit bool
	// BzImage boots the x86 bzImage as it is. By default an x86 kernel
	// with a PVH entry is started as its unpacked ELF image (extracted
	// once into the cache), which skips 20-30 s of TCG decompression.
	BzImage bool
}

// Result is what a boot showed.
type Result struct {
	// Argv is the QEMU command line that ran.
	Argv []string
	// Console is the whole console log.
	Console string
	// ToInit is the time from starting QEMU to u-root's init banner (the
	// kernel reached /init); ToUinit to the device init's first line;
	// ToReady to the ready marker.
	ToInit, ToUinit, ToReady time.Duration
	// GuestUinit and GuestReady are the guest's own uptime (from
	// /proc/uptime) at the device init's start and at ready: kernel boot
	// and initramfs unpacking without the firmware and host load.
	GuestUinit, GuestReady time.Duration
	// Markers holds the JSON after each DEVICE-* marker (first occurrence).
	Markers map[string]string
	// WAV is the audio file QEMU wrote ("" if the BSP has no audio).
	WAV string
	// PVH is true when the kernel was started through its PVH entry.
	PVH bool
}

// Argv returns the QEMU command line for the image in dir: the manifest's
// template with {kernel}, {initrd}, {append}, {wav} and {state} filled in.
// On x86 it boots the same kernel through its PVH entry, as Boot does
// (about 2.5 s faster under TCG), falling back to the bzImage.
func Argv(m *image.Manifest, dir, wav string, extra []string) []string {
	kernel, _ := fastKernel(m, dir)
	return argv(m, dir, kernel, wav, extra)
}

func argv(m *image.Manifest, dir, kernel, wav string, extra []string) []string {
	appendLine := strings.TrimSpace(strings.Join(append([]string{m.Cmdline}, extra...), " "))
	r := strings.NewReplacer(
		"{kernel}", kernel,
		"{initrd}", filepath.Join(dir, m.Initramfs),
		"{append}", appendLine,
		"{wav}", wav,
		"{state}", filepath.Join(dir, StateFile),
	)
	out := make([]string, len(m.QEMU))
	for i, a := range m.QEMU {
		out[i] = r.Replace(a)
	}
	return out
}

// StateFile is the device's state disk in the image folder: the data
// partition a flashed device keeps across reboots. Rebuilding the image
// folder starts a fresh one.
const StateFile = "state.img"

// StateSize is the size of a new state disk.
const StateSize = 64 << 20

// PrepareState creates the state disk, formatted ext4, when the BSP's QEMU
// command line has a {state} drive and the image folder has none yet (the
// first boot after flashing). An existing disk is kept, so state survives
// reboots.
func PrepareState(m *image.Manifest, dir string) error {
	uses := false
	for _, a := range m.QEMU {
		uses = uses || strings.Contains(a, "{state}")
	}
	p := filepath.Join(dir, StateFile)
	if !uses {
		return nil
	}
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		if mkfs, err = exec.LookPath("/usr/sbin/mkfs.ext4"); err != nil {
			return fmt.Errorf("qemu: the BSP has a state disk and formatting it needs mkfs.ext4: apt-get install e2fsprogs")
		}
	}
	tmp := p + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("qemu: state disk: %w", err)
	}
	err = f.Truncate(StateSize)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if out, merr := exec.Command(mkfs, "-q", "-F", "-L", "state", tmp).CombinedOutput(); merr != nil {
			err = fmt.Errorf("%v: %s", merr, strings.TrimSpace(string(out)))
		}
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("qemu: create the state disk %s: %w", p, err)
	}
	return nil
}

// usesWAV reports whether the template has a {wav} placeholder.
func usesWAV(m *image.Manifest) bool {
	for _, a := range m.QEMU {
		if strings.Contains(a, "{wav}") {
			return true
		}
	}
	return false
}

// Boot runs the image in dir until the device reports ready (and the
// WaitFor markers appear), then stops QEMU cleanly. The returned error wraps
// ErrNotReady and carries the console's last 30 lines when the device did not
// get ready; the Result is returned in both cases.
func Boot(ctx context.Context, dir string, opts Options) (*Result, error) {
	m, err := image.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if len(m.QEMU) == 0 {
		return nil, fmt.Errorf("qemu: %s has no QEMU command line; the BSP cannot be booted in QEMU", dir)
	}
	if _, err := exec.LookPath(m.QEMU[0]); err != nil {
		return nil, fmt.Errorf("qemu: %s not found (apt-get install %s): %w", m.QEMU[0], aptPackage(m.QEMU[0]), err)
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	res := &Result{Markers: map[string]string{}}
	if usesWAV(m) {
		res.WAV = opts.WAV
		if res.WAV == "" {
			f, err := os.CreateTemp("", "sysgen-boot-*.wav")
			if err != nil {
				return nil, fmt.Errorf("qemu: %w", err)
			}
			f.Close()
			res.WAV = f.Name()
			defer os.Remove(res.WAV)
		}
	}
	if err := PrepareState(m, dir); err != nil {
		return nil, err
	}
	kernel := filepath.Join(dir, m.Kernel.File)
	if !opts.BzImage {
		kernel, res.PVH = fastKernel(m, dir)
	}
	res.Argv = argv(m, dir, kernel, res.WAV, opts.Append)

	cmd := exec.Command(res.Argv[0], res.Argv[1:]...)
	stdin, err := cmd.StdinPipe() // keep the serial console's input open
	if err != nil {
		return nil, fmt.Errorf("qemu: %w", err)
	}
	defer stdin.Close()
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	setProcAttr(cmd)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("qemu: start %s: %w", res.Argv[0], err)
	}
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		pw.Close()
		exited <- err
	}()

	var mu sync.Mutex
	var log strings.Builder
	want := append([]string{MarkerReady}, opts.WaitFor...)
	found := make(chan struct{})
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		closed := false
		for sc.Scan() {
			line := strings.TrimRight(sc.Text(), "\r")
			now := time.Since(start)
			if opts.Console != nil {
				fmt.Fprintln(opts.Console, line)
			}
			mu.Lock()
			log.WriteString(line)
			log.WriteByte('\n')
			if res.ToInit == 0 && strings.Contains(line, MarkerInit) {
				res.ToInit = now
			}
			if i := strings.Index(line, "DEVICE"); i >= 0 {
				mk, payload, _ := strings.Cut(line[i:], " ")
				if _, ok := res.Markers[mk]; !ok {
					res.Markers[mk] = payload
					switch mk {
					case MarkerUinit:
						res.ToUinit = now
					case MarkerReady:
						res.ToReady = now
					}
				}
			}
			all := true
			for _, w := range want {
				if _, ok := res.Markers[w]; !ok {
					all = false
				}
			}
			mu.Unlock()
			if all && !closed {
				closed = true
				close(found)
			}
		}
		io.Copy(io.Discard, pr)
	}()

	var qemuErr error
	ready := false
	select {
	case <-found:
		ready = true
	case qemuErr = <-exited:
		exited <- qemuErr
	case <-ctx.Done():
	}
	if ready && opts.WaitExit {
		select {
		case qemuErr = <-exited:
			exited <- qemuErr
		case <-ctx.Done():
		}
	}
	stop(cmd, exited)
	<-scanned
	mu.Lock()
	res.Console = log.String()
	mu.Unlock()
	res.GuestUinit = uptime(res.Markers[MarkerUinit])
	res.GuestReady = uptime(res.Markers[MarkerReady])
	if !ready {
		why := "timed out after " + timeout.String()
		if ctx.Err() == nil || qemuErr != nil {
			why = fmt.Sprintf("QEMU exited (%v)", qemuErr)
		}
		missing := []string{}
		for _, w := range want {
			if _, ok := res.Markers[w]; !ok {
				missing = append(missing, w)
			}
		}
		return res, fmt.Errorf("%w: %s, missing %s; last console lines:\n%s", ErrNotReady, why, strings.Join(missing, ", "), Tail(res.Console, 30))
	}
	return res, nil
}

// stop ends QEMU: SIGTERM (QEMU then finishes the WAV header), SIGKILL to
// the process group if it is still there after 10 s.
func stop(cmd *exec.Cmd, exited chan error) {
	select {
	case err := <-exited:
		exited <- err
		return
	default:
	}
	terminate(cmd)
	select {
	case err := <-exited:
		exited <- err
	case <-time.After(10 * time.Second):
		kill(cmd)
		err := <-exited
		exited <- err
	}
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func aptPackage(prog string) string {
	switch {
	case strings.Contains(prog, "x86"):
		return "qemu-system-x86"
	case strings.Contains(prog, "aarch64"), strings.Contains(prog, "arm"):
		return "qemu-system-arm"
	}
	return "qemu-system"
}

// uptime reads the uptime_ms field of a marker's JSON.
func uptime(payload string) time.Duration {
	var v struct {
		UptimeMS int64 `json:"uptime_ms"`
	}
	if json.Unmarshal([]byte(payload), &v) != nil {
		return 0
	}
	return time.Duration(v.UptimeMS) * time.Millisecond
}

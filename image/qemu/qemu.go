// Package qemu boots a built image folder in QEMU the way its BSP manifest
// says (TCG, user networking, audio to a WAV file, serial console captured).
//
// VM is the one console driver: Start boots the image, one goroutine reads
// the serial console into a buffer (nothing is lost between reads), Expect
// waits for a regexp, Run types a shell command and returns its output and
// exit status, WaitMarker waits for a device marker (package marker), Stop
// ends QEMU cleanly. Host ports forwarded into the guest are free ones, or
// the error names the port that is taken. Boot is the sysgen boot check on
// top of it: start, wait for ready, stop.
package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/marker"
)

// Console markers printed by u-root's init and the device init (defined in
// package marker, which the device links too).
const (
	MarkerInit    = marker.Init
	MarkerUinit   = marker.Start
	MarkerDrivers = marker.Drivers
	MarkerReady   = marker.Ready
	MarkerTest    = marker.Test
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
	// Forward are TCP ports forwarded from the host into the guest.
	Forward []Forward
	// ExtraArgs are added to the end of the manifest's QEMU command line
	// (e.g. "-rtc", "base=2020-01-01T00:00:00").
	ExtraArgs []string
	// Timeout bounds the whole boot (Boot only); 0 means 3 minutes.
	Timeout time.Duration
	// WaitFor are markers to wait for after ready (Boot only, e.g.
	// MarkerTest).
	WaitFor []string
	// WaitExit waits for QEMU to exit by itself (guest power off) after
	// the markers instead of stopping it, or until ctx ends (the timeout
	// or the caller), which then ends the boot normally (Boot only).
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
		"{initrd}", joinDir(dir, m.Initramfs),
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
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := Start(ctx, dir, opts)
	if err != nil {
		return nil, err
	}
	return waitReady(ctx, v, opts, timeout, "")
}

// waitReady waits on a started VM for the ready marker and opts.WaitFor
// (and, with opts.WaitExit, for power off), stops it and collects the
// Result; what names the boot in the not-ready error ("" for Boot).
func waitReady(ctx context.Context, v *VM, opts Options, timeout time.Duration, what string) (*Result, error) {
	res := &Result{Argv: v.Argv(), WAV: v.WAV(), PVH: v.PVH(), Markers: map[string]string{}}
	want := append([]string{MarkerReady}, opts.WaitFor...)
	var waitErr error
	for _, w := range want {
		if _, waitErr = v.WaitMarker(ctx, w, 0); waitErr != nil {
			break
		}
	}
	if waitErr == nil && opts.WaitExit {
		// The device was ready: the wait for power off also ends, without
		// an error, when ctx does (the timeout, or the caller ending it).
		if err := v.Wait(ctx); ctx.Err() == nil {
			waitErr = err
		}
	}
	v.Stop()
	res.Console = v.Console()
	v.mu.Lock()
	for name, m := range v.markers {
		if name != MarkerInit {
			res.Markers[name] = m.Payload
		}
	}
	v.mu.Unlock()
	if m, ok := v.Marker(MarkerInit); ok {
		res.ToInit = m.At
	}
	if m, ok := v.Marker(MarkerUinit); ok {
		res.ToUinit = m.At
	}
	if m, ok := v.Marker(MarkerReady); ok {
		res.ToReady = m.At
	}
	res.GuestUinit = uptime(res.Markers[MarkerUinit])
	res.GuestReady = uptime(res.Markers[MarkerReady])
	var missing []string
	for _, w := range want {
		if _, ok := res.Markers[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		why := "timed out after " + timeout.String()
		if errors.Is(waitErr, ErrExited) {
			why = fmt.Sprintf("QEMU exited (%v)", v.waitErr)
		} else if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			why = ctx.Err().Error()
		}
		return res, fmt.Errorf("%w: %s%s, missing %s; last console lines:\n%s", ErrNotReady, what, why, strings.Join(missing, ", "), Tail(res.Console, 30))
	}
	if opts.WaitExit && waitErr != nil {
		return res, waitErr
	}
	return res, nil
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

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/oemkit/messenger/drivers/audio"
	"github.com/oemkit/messenger/drivers/network"
	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/driver/driverreg"

	_ "github.com/oemkit/messenger/drivers/codec/sgtl5000"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Printf("VMCHECK FAIL: %v\n", err)
	}
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART) // QEMU runs with -no-reboot: it exits
}

func run(ctx context.Context, args []string, stdin io.Reader, out, stderr io.Writer) error {
	for _, m := range []struct{ src, dst, fs string }{{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"}} {
		os.MkdirAll(m.dst, 0o755)
		if err := unix.Mount(m.src, m.dst, m.fs, 0, ""); err != nil && err != unix.EBUSY {
			return fmt.Errorf("mount %s: %w", m.dst, err)
		}
	}
	start := time.Now()
	st, err := driverreg.Init()
	if err != nil {
		return fmt.Errorf("driverreg.Init: %w", err)
	}
	fmt.Fprintf(out, "drivers bound in %v\n", time.Since(start).Round(time.Millisecond))
	for _, d := range st.Loaded {
		fmt.Fprintf(out, "loaded: %s\n", d)
	}
	for _, f := range st.Skipped {
		fmt.Fprintf(out, "skipped: %s\n", f)
	}
	for _, f := range st.Failed {
		fmt.Fprintf(out, "failed: %s\n", f)
	}
	if len(st.Failed) > 0 {
		return fmt.Errorf("%d drivers failed", len(st.Failed))
	}
	for _, b := range network.Bound() {
		fmt.Fprintln(out, b)
	}
	for _, b := range audio.Bound() {
		fmt.Fprintln(out, b)
	}
	rc, _ := os.ReadFile("/etc/resolv.conf")
	fmt.Fprintf(out, "resolv.conf: %q\n", rc)

	cmdline, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(cmdline)) {
		if addr, ok := strings.CutPrefix(f, "vmcheck.dial="); ok {
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				return fmt.Errorf("dial %s: %w", addr, err)
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "hello from the guest\n")
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err != nil {
				return fmt.Errorf("read from %s: %w", addr, err)
			}
			fmt.Fprintf(out, "tcp %s echoed %q\n", addr, line)
		}
	}

	if cap, err := audio.OpenCapture(8000, 1); err == nil {
		r, ch := cap.HardwareFormat()
		buf := make([]byte, 2*1600) // 0.2 s of 8 kHz mono
		n, err := io.ReadFull(cap, buf)
		n /= 2
		cap.Close()
		// QEMU's wav audiodev has no input voice: reads fail with EIO there.
		fmt.Fprintf(out, "captured %d frames at 8000 Hz mono (hardware %d Hz %d ch), err %v\n", n, r, ch, err)
	} else {
		fmt.Fprintf(out, "capture: %v\n", err)
	}

	d, err := audio.OpenPlayback(8000, 1)
	if err != nil {
		return err
	}
	r, ch := d.HardwareFormat()
	d.Close()
	fmt.Fprintf(out, "playback hardware format %d Hz %d ch\n", r, ch)
	start = time.Now()
	if err := audio.PlayTone(1000, 1500*time.Millisecond, 8000, 1); err != nil {
		return err
	}
	fmt.Fprintf(out, "tone played in %v\n", time.Since(start).Round(time.Millisecond))
	fmt.Fprintln(out, "VMCHECK OK")
	return nil
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/sysgen/cli"
)

// TestKeepaliveSettingsReachKernel builds an image whose osdesign.toml
// overrides two of SYSGEN_TCPIP's keepalive settings, boots it in QEMU and
// reads the sysctls on the device's console shell: the overrides and the
// manifest's defaults for the rest are what the kernel holds.
func TestKeepaliveSettingsReachKernel(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and boots it in QEMU")
	}
	qemu := testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	dir := t.TempDir()
	design := filepath.Join(dir, "osdesign.toml")
	os.WriteFile(design, []byte(`[flags]
SYSGEN_TCPIP = true
SYSGEN_SHELL = true
[settings]
"net.tcp_keepalive_time" = "75s"
"net.tcp_keepalive_probes" = 4
`), 0o644)
	img := filepath.Join(dir, "image")
	var out bytes.Buffer
	c := &cli.Context{Args: []string{"build", "--design", design, "-o", img}, Dir: "../..", Stdout: &out, Stderr: &out}
	if err := c.Execute(context.Background()); err != nil {
		if strings.Contains(err.Error(), "kernel") {
			testenv.Missing(t, "sysgen build: %v (the kernel package could not be fetched)", err)
		}
		t.Fatalf("sysgen build: %v\n%s", err, out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu, "-accel", "tcg", "-m", "512", "-nographic", "-no-reboot",
		"-kernel", filepath.Join(img, "vmlinuz"), "-initrd", filepath.Join(img, "initramfs.cpio.zst"),
		"-append", "console=ttyS0 quiet modules_load=virtio_pci,virtio_rng",
		"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile=", "-device", "virtio-rng-pci")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); cmd.Wait() }()
	const marker = "KEEPALIVE"
	var console []string
	sc := bufio.NewScanner(stdout)
	var got []string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		console = append(console, line)
		switch {
		case strings.HasPrefix(line, "SERVICE console-shell: started"):
			// The command line echoed back reads KEEP""ALIVE, so only the
			// output matches the marker.
			fmt.Fprintf(stdin, "echo KEEP\"\"ALIVE $(cat /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/tcp_keepalive_intvl /proc/sys/net/ipv4/tcp_keepalive_probes /proc/sys/net/ipv4/tcp_retries2)\n")
		case strings.Contains(line, marker+" "):
			// The shell prompt may precede the output.
			got = strings.Fields(line[strings.Index(line, marker+" ")+len(marker)+1:])
		case strings.HasPrefix(line, "DEVICE-DRIVERS") && strings.Contains(line, `"network":`):
			t.Errorf("the network driver failed: %s", line)
		}
		if got != nil {
			break
		}
	}
	if got == nil {
		tail := console
		if len(tail) > 30 {
			tail = tail[len(tail)-30:]
		}
		t.Fatalf("no %s line on the console within the timeout; last lines:\n%s", marker, strings.Join(tail, "\n"))
	}
	// time and probes from the design, intvl and retries2 from SYSGEN_TCPIP.
	if want := []string{"75", "10", "4", "8"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("device sysctls keepalive_time, intvl, probes, retries2 = %v, want %v", got, want)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/marker"
	"github.com/oemkit/messenger/image/qemu"
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
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86")
	imagetest.Kernel(t, "qemu-x86_64") // fetched once into the cache sysgen build uses
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
		t.Fatalf("sysgen build: %v\n%s", err, out.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	v, err := qemu.Start(ctx, img, qemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Stop()
	drv, err := v.WaitMarker(ctx, marker.Drivers, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Loaded []string          `json:"loaded"`
		Failed map[string]string `json:"failed"`
	}
	if err := json.Unmarshal([]byte(drv.Payload), &rep); err != nil {
		t.Fatalf("%s %s: %v", marker.Drivers, drv.Payload, err)
	}
	if _, failed := rep.Failed["network"]; failed || !slices.Contains(rep.Loaded, "network") {
		t.Errorf("the network driver did not bind: %s %s", marker.Drivers, drv.Payload)
	}
	if err := v.ExpectString(ctx, "SERVICE console-shell: started", 0); err != nil {
		t.Fatal(err)
	}
	got, rc, err := v.Run(ctx, "cat /proc/sys/net/ipv4/tcp_keepalive_time /proc/sys/net/ipv4/tcp_keepalive_intvl /proc/sys/net/ipv4/tcp_keepalive_probes /proc/sys/net/ipv4/tcp_retries2", time.Minute)
	if err != nil || rc != 0 {
		t.Fatalf("reading the keepalive sysctls on the device: %q, exit %d, %v", got, rc, err)
	}
	// time and probes from the design, intvl and retries2 from SYSGEN_TCPIP.
	if want := "75 10 4 8"; strings.Join(strings.Fields(got), " ") != want {
		t.Errorf("device sysctls keepalive_time, intvl, probes, retries2 = %q, want %s", got, want)
	}
}

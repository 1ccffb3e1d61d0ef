package image_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/testenv"
)

// lineServer accepts connections on 127.0.0.1 and answers each "HELLO ..."
// line with "WELCOME <n>". It returns the address and the lines it got.
func lineServer(t *testing.T) (addr string, got chan string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got = make(chan string, 10)
	go func() {
		for n := 1; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn, n int) {
				defer c.Close()
				c.SetDeadline(time.Now().Add(time.Minute))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				got <- strings.TrimSpace(line)
				fmt.Fprintf(c, "WELCOME %d\n", n)
			}(c, n)
		}
	}()
	return l.Addr().String(), got
}

// compareDirs fails if two image folders differ in any byte.
func compareDirs(t *testing.T, a, b string) {
	t.Helper()
	ents, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		x, err := os.ReadFile(filepath.Join(a, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of the same spec", e.Name())
		}
	}
}

type testMarker struct {
	OK         bool `json:"ok"`
	Interfaces []struct {
		Name  string   `json:"name"`
		Addrs []string `json:"addrs"`
	} `json:"interfaces"`
	TCP *struct {
		OK    bool   `json:"ok"`
		Reply string `json:"reply"`
		Error string `json:"error"`
	} `json:"tcp"`
	Tone *struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	} `json:"tone"`
}

func hasAddr(m testMarker, want string) bool {
	for _, i := range m.Interfaces {
		for _, a := range i.Addrs {
			if a == want {
				return true
			}
		}
	}
	return false
}

// TestBoot builds the Messenger design for each QEMU BSP, boots it under TCG
// and checks in the guest: the NIC has 10.0.2.15, a TCP line exchange with a
// server on the host's loopback works (10.0.2.2 from the guest), and a 1 kHz
// tone played through the audio driver arrives in QEMU's WAV output. The x86
// image is built twice and compared byte for byte.
func TestBoot(t *testing.T) {
	for _, tc := range []struct {
		bsp, prog, pkg string
		tone           bool
		twice          bool
	}{
		{bsp: "qemu-x86_64", prog: "qemu-system-x86_64", pkg: "qemu-system-x86", tone: true, twice: true},
		{bsp: "qemu-aarch64", prog: "qemu-system-aarch64", pkg: "qemu-system-arm", tone: true},
	} {
		t.Run(tc.bsp, func(t *testing.T) {
			image.NeedKernel(t)
			testenv.Tool(t, tc.prog, "apt-get install "+tc.pkg)
			ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
			defer cancel()
			dir := filepath.Join(t.TempDir(), "img")
			spec := image.MessengerSpec(tc.bsp)
			start := time.Now()
			if _, err := image.Build(ctx, spec, dir, image.WithProgress(os.Stderr)); err != nil {
				t.Fatalf("Build(%s) = %v", tc.bsp, err)
			}
			t.Logf("build: %v", time.Since(start))
			if tc.twice {
				again := filepath.Join(t.TempDir(), "again")
				if _, err := image.Build(ctx, spec, again); err != nil {
					t.Fatalf("Build(%s) again = %v", tc.bsp, err)
				}
				compareDirs(t, dir, again)
			}

			addr, got := lineServer(t)
			_, port, _ := net.SplitHostPort(addr)
			app := []string{"devicetest.tcp=10.0.2.2:" + port, "devicetest.poweroff=1"}
			if tc.tone {
				app = append(app, "devicetest.tone=1000", "devicetest.ms=1500")
			}
			var console bytes.Buffer
			res, err := qemu.Boot(ctx, dir, qemu.Options{
				Append: app, Console: &console, Timeout: 5 * time.Minute,
				WaitFor: []string{qemu.MarkerTest}, WaitExit: true,
				WAV: filepath.Join(t.TempDir(), "out.wav"),
			})
			if err != nil {
				t.Fatalf("Boot(%s) = %v", tc.bsp, err)
			}
			t.Logf("%s: /init after %v, device init after %v, ready after %v (ready-init %v)",
				tc.bsp, res.ToInit, res.ToUinit, res.ToReady, res.ToReady-res.ToInit)
			t.Logf("drivers: %s", res.Markers[qemu.MarkerDrivers])
			var m testMarker
			if err := json.Unmarshal([]byte(res.Markers[qemu.MarkerTest]), &m); err != nil {
				t.Fatalf("DEVICE-TEST line %q: %v", res.Markers[qemu.MarkerTest], err)
			}
			if !hasAddr(m, "10.0.2.15/24") {
				t.Errorf("guest interfaces = %+v, want 10.0.2.15/24 on the NIC\n%s", m.Interfaces, qemu.Tail(res.Console, 30))
			}
			if m.TCP == nil || !m.TCP.OK || !strings.HasPrefix(m.TCP.Reply, "WELCOME ") {
				t.Errorf("guest TCP test = %+v, want a WELCOME reply", m.TCP)
			}
			select {
			case line := <-got:
				if !strings.HasPrefix(line, "HELLO 10.0.2.15:") {
					t.Errorf("host server got %q, want HELLO 10.0.2.15:<port>", line)
				}
			default:
				t.Errorf("host server got no line from the guest")
			}
			if tc.tone {
				if m.Tone == nil || !m.Tone.OK {
					t.Errorf("guest tone = %+v, want played", m.Tone)
				}
				w, err := qemu.ReadWAV(res.WAV)
				if err != nil {
					t.Fatalf("QEMU's WAV output: %v", err)
				}
				ok, ratio := qemu.ToneCheck(w, 1000)
				if !ok {
					t.Errorf("ToneCheck(WAV, 1000 Hz) = false (ratio %.1f), want the tone in QEMU's audio output", ratio)
				}
				t.Logf("WAV: %d Hz, %d ch, %.2f s; 1 kHz power is %.0fx the strongest other probe", w.Rate, w.Channels, float64(len(w.Samples)/w.Channels)/float64(w.Rate), ratio)
			}
			if t.Failed() {
				t.Logf("console:\n%s", console.String())
			}
		})
	}
}

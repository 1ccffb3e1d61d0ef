package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/image"
	"github.com/oemkit/messenger/image/imagetest"
	"github.com/oemkit/messenger/image/qemu"
	"github.com/oemkit/messenger/internal/testenv"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/sysgen/cli"
)

// Tones of the QEMU voice test: the host's msmsgs sends hostTone from a
// WAV file; the device's microphone (the HDA codec's capture side) hears
// deviceTone played into PulseAudio.
const (
	hostTone   = 1000
	deviceTone = 700
)

var toneProbes = []float64{hostTone, deviceTone, 440, 1600}

// TestVoiceOnDeviceQEMU boots the Messenger image in QEMU with its sound
// card (intel-hda with an hda-duplex codec) on a PulseAudio server the
// test starts: the codec's capture side records a 700 Hz tone, its
// playback goes to a null sink whose monitor the test records. The device
// calls a host msmsgs (a sysgen_rtc build, voiceDaemon) through the lab
// service, then the host calls the device; the host sends a 1000 Hz tone from a WAV file and records what
// it hears. Pass: each side's tone is found at its frequency in what the
// other side played (the host's recording, the null sink's monitor).
//
// Under QEMU's user networking the guest (10.0.2.15) reaches the host as
// 10.0.2.2 and the host reaches the guest through port forwards on
// 127.0.0.1: the device announces 127.0.0.1 (rtc.address) and ports that
// are forwarded to the same ports in the guest (rtc.sip_port over TCP,
// rtc.media_ports over UDP); the host announces 10.0.2.2.
func TestVoiceOnDeviceQEMU(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image and boots it in QEMU")
	}
	testenv.Tool(t, "qemu-system-x86_64", "apt-get install qemu-system-x86 (scripts/install-deps)")
	testenv.Tool(t, "pulseaudio", "apt-get install pulseaudio (scripts/install-deps)")
	testenv.Tool(t, "parec", "apt-get install pulseaudio-utils (scripts/install-deps)")
	if m, _ := filepath.Glob("/usr/lib/*/qemu/audio-pa.so"); len(m) == 0 {
		testenv.Missing(t, "QEMU's PulseAudio audio backend (audio-pa.so) is not installed: apt-get install qemu-system-gui (scripts/install-deps)")
	}
	imagetest.Kernel(t, "qemu-x86_64")
	const alice, bob = "alice@lab.test", "bob@lab.test" // device, host
	pw := map[string]string{alice: "device-Pw1", bob: "host-Pw2"}
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	// The lab service, with a listener for QEMU guests.
	l := &lab{t: t, bin: buildTool(t, "messengerd"), data: t.TempDir(), extra: []string{"-guest-addr", "127.0.0.1:0"}}
	for u, p := range pw {
		addUser(t, l.bin, l.data, u, p)
	}
	l.start("127.0.0.1:0", "127.0.0.1:0")
	t.Cleanup(l.kill)
	if l.r.Guest == "" {
		t.Fatal("messengerd reported no guest listener (-guest-addr)")
	}

	pa := startPulse(t, deviceTone)

	// The device's voice ports, forwarded from the same host ports.
	sipPort := freeTCPUDP(t, 1)
	media := freeTCPUDP(t, 4)

	// The host client: announces 10.0.2.2, where the guest reaches it.
	hostCfg, heard := qemuHostVoiceSettings(t)
	b := voiceDaemon(t, ctx, l, bob, pw[bob], hostCfg)
	mustCtl(t, ctx, b, "wait-signin", "-timeout", "60s")
	mustCtl(t, ctx, b, "add", alice)

	// The device image.
	dir := t.TempDir()
	_, guestPort, _ := net.SplitHostPort(l.r.Guest)
	_, httpsPort, _ := net.SplitHostPort(l.r.HTTPS)
	design := filepath.Join(dir, "osdesign.toml")
	if err := os.WriteFile(design, []byte(fmt.Sprintf(`bsp = "qemu-x86_64"
locales = ["en-US"]
certificates = [%q]

[flags]
SYSGEN_MESSENGER = true
SYSGEN_SHELL = true

[settings]
"msmsgs.server" = "10.0.2.2:%s"
"msmsgs.nexus" = "https://10.0.2.2:%s/rdr/pprdr.asp"
"msmsgs.account" = %q
"msmsgs.password" = %q
"msmsgs.ca_file" = "/etc/ssl/certs/device/ca.pem"
"rtc.sip_port" = %d
"rtc.media_ports" = "%d-%d"
"rtc.address" = "127.0.0.1"
"rtc.audio" = "device"
`, l.r.CA, guestPort, httpsPort, alice, pw[alice], sipPort, media, media+3)), 0o600); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(dir, "image")
	var out bytes.Buffer
	start := time.Now()
	c := &cli.Context{Args: []string{"build", "--design", design, "-o", img}, Dir: "..", Stdout: &out, Stderr: &out}
	if err := c.Execute(ctx); err != nil {
		t.Fatalf("sysgen build: %v\n%s", err, out.String())
	}
	t.Logf("image built in %v", time.Since(start).Round(time.Millisecond))

	m, err := image.ReadManifest(img)
	if err != nil {
		t.Fatal(err)
	}
	if err := withPulseAudio(m, pa.socket, sipPort, media, media+3); err != nil {
		t.Fatal(err)
	}
	consoleLog, err := os.Create(filepath.Join(dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer consoleLog.Close()
	// no_timer_check: a TCG guest on a loaded host can fail the kernel's
	// IO-APIC timer check and panic at boot.
	v, err := qemu.StartManifest(ctx, m, img, qemu.Options{Console: consoleLog, Append: append([]string{"no_timer_check"}, strings.Fields(os.Getenv("MSMSGS_QEMU_APPEND"))...)})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Stop()
	t.Logf("qemu: %s", strings.Join(v.Argv(), " "))
	defer func() {
		if t.Failed() {
			var warn []string
			for _, l := range strings.Split(v.Console(), "\n") {
				// QEMU's own stderr (its audio backend's errors) shares the
				// console: "audio:", "pulseaudio:", "qemu-system-".
				if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") || strings.Contains(l, "voice") ||
					strings.Contains(l, "audio") || strings.Contains(l, "qemu-system") {
					warn = append(warn, l)
				}
			}
			t.Logf("device console, warnings:\n%s\ntail:\n%s", strings.Join(warn, "\n"), qemu.Tail(v.Console(), 30))
		}
	}()
	if _, err := v.WaitMarker(ctx, qemu.MarkerReady, 4*time.Minute); err != nil {
		t.Fatal(err)
	}
	// The sound card must be bound with its mixer set: a codec left muted
	// plays and records silence, and the calls below would only say so.
	drv, err := v.WaitMarker(ctx, qemu.MarkerDrivers, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var report struct{ Failed map[string]string }
	if err := json.Unmarshal([]byte(drv.Payload), &report); err != nil {
		t.Fatalf("device drivers report %q: %v", drv.Payload, err)
	}
	for name, why := range report.Failed {
		if strings.Contains(name, "audio") {
			t.Fatalf("device: driver %s failed: %s", name, why)
		}
	}
	if _, _, err := v.Run(ctx, "true", 2*time.Minute); err != nil {
		t.Fatalf("device shell: %v", err)
	}
	dev := &guest{t: t, ctx: ctx, v: v}
	dev.ctl("wait-signin -timeout 180s", 200*time.Second)
	dev.ctl("add "+bob, time.Minute)

	if out, rc, err := v.Run(ctx, "cat /sys/devices/system/clocksource/clocksource0/current_clocksource /sys/devices/system/clocksource/clocksource0/available_clocksource", time.Minute); err == nil && rc == 0 {
		// Go reads the clock on every scheduler and timer step: a clock
		// that is emulated device I/O (hpet, acpi_pm) costs much under TCG.
		t.Logf("device clocksource (current, available): %s", strings.Join(strings.Fields(lastLines(out, 2)), " "))
	}
	pid := qemuPID(filepath.Join(img, m.Initramfs))
	idle0, q0 := dev.cpu(), sampleQEMU(pid)
	time.Sleep(5 * time.Second)
	logQEMU(t, "with the device signed in, idle", q0, sampleQEMU(pid))
	logCPU(t, "signed in, idle", idle0, dev.cpu())

	probes := toneProbes
	t.Run("device-calls-host", func(t *testing.T) {
		seqB := lastSeq(t, ctx, b)
		seqD := dev.seq()
		rec := pa.record(t, "device-calls-host")
		sent := time.Now()
		var r struct{ Call string }
		if err := json.Unmarshal([]byte(lastJSON(dev.ctl("call "+bob, time.Minute))), &r); err != nil || r.Call == "" {
			t.Fatalf("device: ctl call gave no call id: %v", err)
		}
		offer := waitForLong(t, ctx, b, seqB, client.EventCallOffer, "account="+alice)
		mustCtl(t, ctx, b, "answer", offer.Call)
		hc := waitForLong(t, ctx, b, seqB, client.EventCallConnected, "account="+alice)
		dc := dev.wait(seqD, "call-connected account="+bob)
		cpu0, q0, con0 := dev.cpu(), sampleQEMU(pid), len(v.Console())
		t.Logf("device -> host: ctl call on the console to the host's call-connected %v (wall clock, with the serial console); device's call-connected: setup %v, SIP INVITE to 200 OK %v (device clock); host's call-connected: codec %s from %s",
			time.Since(sent).Round(time.Millisecond), time.Duration(dc.SetupNS).Round(time.Microsecond), time.Duration(dc.SIPSetupNS).Round(time.Microsecond), hc.Codec, hc.Remote)
		time.Sleep(5 * time.Second)
		q1, cpu1, con1 := sampleQEMU(pid), dev.cpu(), len(v.Console())
		logQEMU(t, "in a connected call", q0, q1)
		logFrames(t, "in a connected call", v.Console()[con0:con1])
		logStats(t, "device", dev.wait(seqD, "call-stats account="+bob))
		snap := soundPath(t, pa, dev)
		if at, ok := rec.onset(hostTone); ok {
			t.Logf("host -> device speaker: the host's tone (sent from its call-connected at %s) first played on the device's speaker %v later (upper bound of the device's wire-to-playback latency, with QEMU's and PulseAudio's buffers)",
				hc.Time.Format("15:04:05.000"), at.Sub(hc.Time).Round(time.Millisecond))
		}
		mustCtl(t, ctx, b, "hangup", offer.Call)
		waitForLong(t, ctx, b, seqB, client.EventCallEnded, "account="+alice)
		dev.wait(seqD, "call-ended account="+bob)
		logCPU(t, "in a connected call", cpu0, cpu1)
		checkTone(t, "the host's recording", readRecording(t, heard, offer.Call), deviceTone, probes)
		checkTone(t, "the device's speaker (null sink monitor)", rec.stop(t), hostTone, probes)
		if t.Failed() {
			t.Logf("the sound path in the call:\n%s", snap)
		}
	})

	t.Run("host-calls-device", func(t *testing.T) {
		seqB := lastSeq(t, ctx, b)
		seqD := dev.seq()
		rec := pa.record(t, "host-calls-device")
		start := time.Now()
		id := callOf(t, mustCtl(t, ctx, b, "call", alice))
		offer := dev.wait(seqD, "call-offer account="+bob)
		dev.ctl("answer "+offer.Call, time.Minute)
		hc := waitForLong(t, ctx, b, seqB, client.EventCallConnected, "account="+alice)
		t.Logf("host -> device: ctl call to call-connected %v (wall clock, answered through the serial console); host's setup %v, SIP INVITE to 200 OK %v; codec %s from %s",
			time.Since(start).Round(time.Millisecond), time.Duration(hc.SetupNS).Round(time.Microsecond), time.Duration(hc.SIPSetupNS).Round(time.Microsecond), hc.Codec, hc.Remote)
		dev.wait(seqD, "call-connected account="+bob)
		time.Sleep(5 * time.Second)
		logStats(t, "device", dev.wait(seqD, "call-stats account="+bob))
		snap := soundPath(t, pa, dev)
		if at, ok := rec.onset(hostTone); ok {
			t.Logf("host -> device speaker: the host's tone (sent from its call-connected at %s) first played on the device's speaker %v later (network through QEMU's NAT, the device's jitter buffer and playback ring, QEMU's and PulseAudio's buffers: an upper bound of the device's wire-to-playback latency)",
				hc.Time.Format("15:04:05.000"), at.Sub(hc.Time).Round(time.Millisecond))
		}
		dev.ctl("hangup "+offer.Call, time.Minute)
		waitForLong(t, ctx, b, seqB, client.EventCallEnded, "account="+alice)
		checkTone(t, "the host's recording", readRecording(t, heard, id), deviceTone, probes)
		checkTone(t, "the device's speaker (null sink monitor)", rec.stop(t), hostTone, probes)
		if t.Failed() {
			t.Logf("the sound path in the call:\n%s", snap)
		}
	})
}

// waitForLong is waitFor with a timeout for a guest under TCG.
func waitForLong(t *testing.T, ctx context.Context, sock, seq, typ string, filters ...string) client.Event {
	t.Helper()
	out := mustCtl(t, ctx, sock, append([]string{"wait", "-timeout", "90s", "-since", seq, typ}, filters...)...)
	var e client.Event
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("event %q: %v", out, err)
	}
	return e
}

// qemuHostVoiceSettings is the host client's settings: it binds loopback,
// announces 10.0.2.2 (the host as the guest sees it), sends a hostTone WAV
// and records each call.
func qemuHostVoiceSettings(t *testing.T) (cfg, recordings string) {
	t.Helper()
	dir := t.TempDir()
	wav := toneWAV(t, dir, hostTone, 400) // 8 s
	recordings = filepath.Join(dir, "heard")
	b, _ := json.Marshal(map[string]any{
		"rtc.sip_port":    freeTCPUDP(t, 1),
		"rtc.media_ports": mediaRange(t),
		"rtc.listen":      "127.0.0.1",
		"rtc.address":     "10.0.2.2",
		"rtc.audio":       "wav",
		"rtc.wav_in":      wav,
		"rtc.wav_out":     recordings,
	})
	cfg = filepath.Join(dir, "settings.json")
	if err := os.WriteFile(cfg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, recordings
}

func mediaRange(t *testing.T) string {
	p := freeTCPUDP(t, 4)
	return fmt.Sprintf("%d-%d", p, p+3)
}

// freeTCPUDP returns an even port p such that p..p+n-1 are free for TCP and
// UDP on 127.0.0.1 a moment ago. The ports are below the kernel's
// ephemeral range (ip_local_port_range starts at 32768), so no outgoing
// connection of another test takes them between this check and QEMU's
// port forward; only another explicit bind could.
func freeTCPUDP(t *testing.T, n int) int {
	t.Helper()
	const lo, hi = 20000, 32768
	for try := 0; try < 200; try++ {
		p := lo + 2*rand.IntN((hi-lo-n)/2)
		ok := true
		for i := 0; i < n && ok; i++ {
			u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p + i})
			if err != nil {
				ok = false
				continue
			}
			u.Close()
			c, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+i))
			if err != nil {
				ok = false
				continue
			}
			c.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port range")
	return 0
}

// withPulseAudio changes the board's QEMU command line for the test: the
// sound card's codec is hda-duplex on the PulseAudio server at socket
// (playback to the null sink devspk, capture from devmic's monitor),
// and the device's voice ports are forwarded from the same host ports:
// SIP over TCP and UDP, RTP/RTCP over UDP.
func withPulseAudio(m *image.Manifest, socket string, sip, mediaLo, mediaHi int) error {
	q := append([]string(nil), m.QEMU...)
	audiodev, codec, netdev := false, false, false
	for i := 1; i < len(q); i++ {
		switch {
		case q[i-1] == "-audiodev" && strings.HasPrefix(q[i], "wav,"):
			q[i] = "pa,id=a0,server=unix:" + socket + ",out.name=devspk,in.name=devmic.monitor"
			audiodev = true
		case q[i-1] == "-device" && (strings.HasPrefix(q[i], "hda-output,") || strings.HasPrefix(q[i], "hda-duplex,")):
			q[i] = "hda-duplex,audiodev=a0"
			codec = true
		case q[i-1] == "-netdev" && strings.HasPrefix(q[i], "user,"):
			q[i] += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d,hostfwd=udp:127.0.0.1:%d-:%d", sip, sip, sip, sip)
			for p := mediaLo; p <= mediaHi; p++ {
				q[i] += fmt.Sprintf(",hostfwd=udp:127.0.0.1:%d-:%d", p, p)
			}
			netdev = true
		}
	}
	if !audiodev || !codec || !netdev {
		return fmt.Errorf("the BSP's QEMU line lacks a wav -audiodev (%v), an hda codec -device (%v) or a user -netdev (%v): %q", audiodev, codec, netdev, m.QEMU)
	}
	m.QEMU = q
	return nil
}

// pulse is a PulseAudio server run by the test.
type pulse struct {
	dir, socket string
}

// startPulse runs a PulseAudio server of its own (no D-Bus, no session)
// with two null sinks: devspk is the device's speaker, recorded through its
// monitor; devmic carries a freq Hz tone that pacat plays into it, and its
// monitor is the device's microphone. (module-sine-source delivers in
// bursts of seconds, which starves QEMU's capture; a monitor follows the
// low latency pacat asks for.)
func startPulse(t *testing.T, freq int) *pulse {
	t.Helper()
	dir, err := os.MkdirTemp("", "msmsgs-pa-") // short: a socket path has 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &pulse{dir: dir, socket: filepath.Join(dir, "native")}
	cfg := fmt.Sprintf(`load-module module-native-protocol-unix socket=%s auth-anonymous=1
load-module module-null-sink sink_name=devspk rate=48000 channels=2
load-module module-null-sink sink_name=devmic rate=48000 channels=1
`, p.socket)
	if err := os.WriteFile(filepath.Join(dir, "test.pa"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("pulseaudio", "-n", "-F", filepath.Join(dir, "test.pa"), "--daemonize=no",
		"--exit-idle-time=-1", "--use-pid-file=no", "--log-target=stderr")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_RUNTIME_DIR="+dir, "PULSE_RUNTIME_PATH="+dir, "PULSE_STATE_PATH="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pulseaudio log:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("unix", p.socket); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio made no socket %s in 20s:\n%s", p.socket, logs.String())
		}
	}
	// The microphone's tone, for as long as the test runs.
	play := exec.Command("pacat", "--server=unix:"+p.socket, "--device=devmic", "--format=s16le", "--rate=48000",
		"--channels=1", "--raw", "--latency-msec=20", "--playback")
	play.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	play.Stdin = &sine{freq: float64(freq), rate: 48000}
	var playErr syncBuffer
	play.Stderr = &playErr
	if err := play.Start(); err != nil {
		t.Fatalf("pacat: %v", err)
	}
	t.Cleanup(func() {
		_ = play.Process.Kill()
		_ = play.Wait()
		if t.Failed() {
			t.Logf("pacat: %s", playErr.String())
		}
	})
	return p
}

// soundPath describes both ends of the device's sound path in a call, for
// a failure report: QEMU's streams on the PulseAudio server (corked,
// muted, latency) and the guest's PCM state (hw_ptr, appl_ptr moving or
// not) and codec amps.
func soundPath(t *testing.T, p *pulse, dev *guest) string {
	t.Helper()
	var b strings.Builder
	for _, what := range []string{"sink-inputs", "source-outputs"} {
		out, err := exec.Command("pactl", "--server=unix:"+p.socket, "list", what).CombinedOutput()
		fmt.Fprintf(&b, "pactl list %s (%v):\n", what, err)
		for _, l := range strings.Split(string(out), "\n") {
			for _, k := range []string{"#", "Sink:", "Source:", "Sample Specification:", "Corked:", "Mute:", "Volume:", "Latency:", "application.name"} {
				if strings.Contains(l, k) {
					fmt.Fprintf(&b, "  %s\n", strings.TrimSpace(l))
					break
				}
			}
		}
	}
	out, _, err := dev.v.Run(dev.ctx, "cat /proc/asound/card0/pcm0p/sub0/status /proc/asound/card0/pcm0c/sub0/status /proc/asound/card0/pcm0p/sub0/hw_params /proc/asound/card0/codec#0", time.Minute)
	fmt.Fprintf(&b, "device PCM status (%v):\n%s\n", err, out)
	return b.String()
}

// sine is an endless 16-bit little-endian mono sine at half scale.
type sine struct {
	freq, rate float64
	n          int
}

func (s *sine) Read(b []byte) (int, error) {
	n := len(b) &^ 1
	for i := 0; i < n; i += 2 {
		v := int16(16000 * math.Sin(2*math.Pi*s.freq*float64(s.n)/s.rate))
		binary.LittleEndian.PutUint16(b[i:], uint16(v))
		s.n++
	}
	return n, nil
}

// recording is parec recording the null sink's monitor: what the device
// played, with the time each chunk arrived.
type recording struct {
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	samples []int16
	chunks  []chunk
}

// chunk says that samples[:end] had arrived at at.
type chunk struct {
	end int
	at  time.Time
}

func (p *pulse) record(t *testing.T, name string) *recording {
	t.Helper()
	r := &recording{done: make(chan struct{})}
	r.cmd = exec.Command("parec", "--server=unix:"+p.socket, "--device=devspk.monitor", "--format=s16le",
		"--rate="+strconv.Itoa(audio.SampleRate), "--channels=1", "--raw", "--latency-msec=10")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("parec: %v", err)
	}
	go func() {
		defer close(r.done)
		buf := make([]byte, 4096)
		var odd []byte
		for {
			n, err := out.Read(buf)
			if n > 0 {
				now := time.Now()
				b := append(odd, buf[:n]...)
				r.mu.Lock()
				for i := 0; i+1 < len(b); i += 2 {
					r.samples = append(r.samples, int16(binary.LittleEndian.Uint16(b[i:])))
				}
				r.chunks = append(r.chunks, chunk{len(r.samples), now})
				r.mu.Unlock()
				odd = append([]byte(nil), b[len(b)&^1:]...)
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// stop ends the recording and returns its samples.
func (r *recording) stop(t *testing.T) []int16 {
	t.Helper()
	_ = r.cmd.Process.Signal(syscall.SIGINT)
	<-r.done
	_ = r.cmd.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int16(nil), r.samples...)
}

// onset is when freq first reached a tenth of its steady power in the
// recording (20 ms windows), as a time on the host's clock: the time its
// chunk arrived less the samples after it in the chunk.
func (r *recording) onset(freq float64) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	const win = audio.SampleRate / 50
	var peak float64
	for i := 0; i+win <= len(r.samples); i += win {
		peak = max(peak, audio.Goertzel(r.samples[i:i+win], freq, audio.SampleRate))
	}
	if peak < 1e-5 {
		return time.Time{}, false
	}
	for i := 0; i+win <= len(r.samples); i += win {
		if audio.Goertzel(r.samples[i:i+win], freq, audio.SampleRate) < peak/10 {
			continue
		}
		for _, c := range r.chunks {
			if c.end > i {
				return c.at.Add(-time.Duration(c.end-i) * time.Second / audio.SampleRate), true
			}
		}
	}
	return time.Time{}, false
}

// readRecording waits for the host's recording of call id in dir.
func readRecording(t *testing.T, dir, id string) []int16 {
	t.Helper()
	path := filepath.Join(dir, id+".wav")
	var err error
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		var s []int16
		if s, err = audio.ReadWAV(path); err == nil {
			return s
		}
	}
	t.Errorf("the host's recording of call %s: %v", id, err)
	return nil
}

// checkTone checks that freq stands out in what was played (8 kHz
// samples), one second at a time: the tone must be the dominant one of
// probes in at least one whole second. It logs in how many seconds it
// was, since a TCG guest on a loaded host can miss stretches of audio.
func checkTone(t *testing.T, who string, s []int16, freq float64, probes []float64) {
	t.Helper()
	if len(s) < audio.SampleRate {
		t.Errorf("%s: %d samples recorded, want at least a second", who, len(s))
		return
	}
	found, secs := 0, 0
	for i := 0; i+audio.SampleRate <= len(s); i += audio.SampleRate {
		secs++
		if audio.DominantTone(s[i:i+audio.SampleRate], freq, probes, 10) {
			found++
		}
	}
	t.Logf("%s: the %.0f Hz tone dominates %d of %d seconds", who, freq, found, secs)
	if found == 0 {
		t.Errorf("%s: no second in which the %.0f Hz tone dominates (%d samples; power %.3g at %.0f Hz, %.3g at %.0f Hz)", who, freq, len(s),
			audio.Goertzel(s, freq, audio.SampleRate), freq, audio.Goertzel(s, probes[1], audio.SampleRate), probes[1])
	}
}

// guest drives the device's msmsgs through its serial console.
type guest struct {
	t   *testing.T
	ctx context.Context
	v   *qemu.VM
	pid string // of the msmsgs daemon, once cpu found it
}

func (g *guest) ctl(args string, timeout time.Duration) string {
	g.t.Helper()
	out, rc, err := g.v.Run(g.ctx, "msmsgs ctl "+args, timeout)
	if err != nil || rc != 0 {
		g.t.Fatalf("device: msmsgs ctl %s: exit %d, %v: %s", args, rc, err, strings.TrimSpace(out))
	}
	return out
}

// seq is the device's last event sequence number.
func (g *guest) seq() string {
	g.t.Helper()
	var in client.Info
	if err := json.Unmarshal([]byte(lastJSON(g.ctl("status", time.Minute))), &in); err != nil {
		g.t.Fatalf("device status: %v", err)
	}
	return strconv.FormatUint(in.LastSeq, 10)
}

// wait waits for a device event after seq ("TYPE key=value...").
func (g *guest) wait(seq, what string) client.Event {
	g.t.Helper()
	out := g.ctl("wait -timeout 90s -since "+seq+" "+what, 2*time.Minute)
	var e client.Event
	if err := json.Unmarshal([]byte(lastJSON(out)), &e); err != nil {
		g.t.Fatalf("device event %q: %v", out, err)
	}
	return e
}

// cpuSample is the device's uptime and the CPU ticks of its msmsgs
// daemon (utime + stime of /proc/PID/stat, USER_HZ 100).
type cpuSample struct {
	uptime     float64
	ticks      int64
	user, sys  int64 // of ticks
	busy, idle int64 // the whole device (/proc/stat cpu line): busy is all but idle and iowait
	ok         bool
}

var statRe = regexp.MustCompile(`^(\d+) \(msmsgs\) \S+ (?:\S+ ){10}(\d+) (\d+) `)

func (g *guest) cpu() cpuSample {
	files := "/proc/[0-9]*/stat" // the first time: find the daemon
	if g.pid != "" {
		files = "/proc/" + g.pid + "/stat"
	}
	out, rc, err := g.v.Run(g.ctx, "cat /proc/stat /proc/uptime "+files, time.Minute)
	// cat exits 1 when a process ended between the glob and its read; the
	// rest of its output is good.
	if err != nil || rc != 0 && !strings.Contains(out, "(msmsgs)") {
		g.t.Logf("device CPU: cat /proc/*/stat: exit %d, %v", rc, err)
		return cpuSample{}
	}
	var s cpuSample
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if f := strings.Fields(line); len(f) > 5 && f[0] == "cpu" {
			for i, v := range f[1:] {
				n, _ := strconv.ParseInt(v, 10, 64)
				if i == 3 || i == 4 {
					s.idle += n
				} else if i < 8 { // user nice system idle iowait irq softirq steal
					s.busy += n
				}
			}
			continue
		}
		if s.uptime == 0 {
			if f := strings.Fields(line); len(f) == 2 {
				if u, err := strconv.ParseFloat(f[0], 64); err == nil {
					s.uptime = u
					continue
				}
			}
		}
		if m := statRe.FindStringSubmatch(line); m != nil {
			u, _ := strconv.ParseInt(m[2], 10, 64)
			k, _ := strconv.ParseInt(m[3], 10, 64)
			if u+k > s.ticks {
				s.ticks, s.user, s.sys, s.ok = u+k, u, k, true
				g.pid = m[1]
			}
		}
	}
	return s
}

func logCPU(t *testing.T, what string, a, b cpuSample) {
	t.Helper()
	if !a.ok || !b.ok || b.uptime <= a.uptime {
		t.Logf("device CPU %s: not measured (no msmsgs line in /proc/*/stat)", what)
		return
	}
	cpu := float64(b.ticks-a.ticks) / 100
	wall := b.uptime - a.uptime
	t.Logf("device CPU %s (TCG): msmsgs used %.2f s of CPU in %.2f s of device time: %.1f%% of one core (user %.1f%%, kernel %.1f%%); the whole device was busy %.1f%%",
		what, cpu, wall, 100*cpu/wall, float64(b.user-a.user)/wall, float64(b.sys-a.sys)/wall,
		100*float64(b.busy-a.busy)/float64(max(1, b.busy-a.busy+b.idle-a.idle)))
}

// qemuCPU is the host CPU time of the QEMU process (utime + stime of its
// /proc/PID/stat) at a moment: what emulating the device costs the host.
type qemuCPU struct {
	at    time.Time
	ticks int64
	ok    bool
}

// qemuPID finds the QEMU process that boots initrd.
func qemuPID(initrd string) string {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && bytes.HasPrefix(b, []byte("qemu-system")) && bytes.Contains(b, []byte(initrd)) {
			return filepath.Base(filepath.Dir(d))
		}
	}
	return ""
}

func sampleQEMU(pid string) qemuCPU {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return qemuCPU{}
	}
	// The fields after the command name: state is field 3, utime 14, stime 15.
	rest := string(b[bytes.LastIndexByte(b, ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return qemuCPU{}
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return qemuCPU{at: time.Now(), ticks: u + k, ok: true}
}

func logQEMU(t *testing.T, what string, a, b qemuCPU) {
	t.Helper()
	if !a.ok || !b.ok {
		t.Logf("QEMU process CPU %s: not measured", what)
		return
	}
	cpu := float64(b.ticks-a.ticks) / 100 // USER_HZ
	wall := b.at.Sub(a.at).Seconds()
	t.Logf("QEMU process CPU %s: %.2f s of host CPU in %.2f s: %.1f%% of one host core", what, cpu, wall, 100*cpu/wall)
}

var frameRe = regexp.MustCompile(`"render_ms":([0-9.]+),"blit_ms":([0-9.]+)`)

// logFrames logs what msmsgs's window (same process, so inside the CPU
// figure) spent redrawing, from the frame markers it printed on the
// console.
func logFrames(t *testing.T, what, console string) {
	t.Helper()
	var n int
	var sum float64
	for _, m := range frameRe.FindAllStringSubmatch(console, -1) {
		r, _ := strconv.ParseFloat(m[1], 64)
		b, _ := strconv.ParseFloat(m[2], 64)
		n, sum = n+1, sum+r+b
	}
	t.Logf("device window %s: %d redraws, %.0f ms rendering and blitting (wall clock, device)", what, n, sum)
}

// logStats logs a call-stats event.
func logStats(t *testing.T, who string, e client.Event) {
	t.Helper()
	if e.CallEvent == nil || e.Stats == nil {
		t.Errorf("%s's call-stats has no figures: %+v", who, e)
		return
	}
	st := e.Stats
	t.Logf("%s's call-stats: sent %d, received %d, lost %d (%.1f%%), jitter %v, concealed %d, round trip %v", who, st.Sent, st.Received, st.Lost,
		100*st.Loss, time.Duration(st.JitterNS).Round(time.Microsecond), st.Concealed, time.Duration(st.RTTNS).Round(time.Microsecond))
	if st.Received == 0 {
		t.Errorf("%s received no RTP packets in the call", who)
	}
	if st.CaptureNS == 0 || st.PlayoutNS == 0 {
		t.Errorf("%s's call-stats has no sound card latency (capture_ns %d, playout_ns %d): the device's audio is its sound card and must be measured", who, st.CaptureNS, st.PlayoutNS)
		return
	}
	ms := func(ns int64) string { return time.Duration(ns).Round(100 * time.Microsecond).String() }
	t.Logf("%s's audio latency (device clock, in the code path): capture to wire mean %s (max %s), wire to playback mean %s (max %s), target under 60ms each way",
		who, ms(st.CaptureNS), ms(st.CaptureMaxNS), ms(st.PlayoutNS), ms(st.PlayoutMaxNS))
}

// lastLines is the last n non-empty lines of console output.
func lastLines(out string, n int) string {
	var keep []string
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r", ""), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep[max(0, len(keep)-n):], "\n")
}

// lastJSON is the last line of console output that holds a JSON value.
func lastJSON(out string) string {
	lines := strings.Split(strings.ReplaceAll(out, "\r", ""), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if strings.HasPrefix(l, "{") || strings.HasPrefix(l, "[") {
			return l
		}
	}
	return strings.TrimSpace(out)
}

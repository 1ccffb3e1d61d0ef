package rtc

import (
	"github.com/oemkit/messenger/internal/testenv"

	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/internal/netns"
	"github.com/oemkit/messenger/feature/rtc/media"
)

// baresip is a real baresip phone run by the test, driven over ctrl_tcp.
type baresip struct {
	t       *testing.T
	dir     string
	sipPort int
	cmd     *exec.Cmd
	ctrl    net.Conn
	events  chan map[string]any
	respMu  sync.Mutex
	resp    chan map[string]any
	log     *strings.Builder
	logMu   sync.Mutex
	waitErr chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// startBaresip runs baresip with an aufile source playing wav and the sndfile
// recorder; codecs is its audio_codecs list.
func startBaresip(t *testing.T, name, wav, codecs string, rtpBase int) *baresip {
	t.Helper()
	dir := t.TempDir()
	b := &baresip{t: t, dir: dir, sipPort: freePort(t), events: make(chan map[string]any, 64),
		resp: make(chan map[string]any, 4), log: &strings.Builder{}, waitErr: make(chan error, 1)}
	ctrlPort := freePort(t)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_source aufile,%s
audio_player aubridge,%s
audio_alert aubridge,%s
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module account.so
module menu.so
module ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
snd_path %s
rtp_ports %d-%d
rtcp_mux no
`, b.sipPort, wav, name, name, ctrlPort, dir, rtpBase, rtpBase+99)
	acct := fmt.Sprintf("<sip:%s@127.0.0.1:%d>;regint=0;answermode=auto;audio_codecs=%s;ptime=20\n", name, b.sipPort, codecs)
	for f, body := range map[string]string{"config": config, "accounts": acct, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.cmd = exec.Command("baresip", "-f", dir)
	// If the test process dies, baresip must not outlive it.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, _ := b.cmd.StdoutPipe()
	b.cmd.Stderr = b.cmd.Stdout
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			b.logMu.Lock()
			b.log.WriteString(sc.Text() + "\n")
			b.logMu.Unlock()
		}
		b.waitErr <- b.cmd.Wait()
	}()
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.waitErr
		if t.Failed() {
			t.Logf("baresip %s log:\n%s", name, b.Log())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort))
		if err == nil {
			b.ctrl = c
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip ctrl_tcp did not come up: %v\n%s", err, b.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	go b.readCtrl()
	return b
}

func (b *baresip) Log() string {
	b.logMu.Lock()
	defer b.logMu.Unlock()
	return b.log.String()
}

// readCtrl splits the netstring stream into JSON events and responses.
func (b *baresip) readCtrl() {
	r := bufio.NewReader(b.ctrl)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			close(b.events)
			return
		}
		n, err := strconv.Atoi(strings.TrimSuffix(lenStr, ":"))
		if err != nil || n > 1<<20 {
			close(b.events)
			return
		}
		buf := make([]byte, n+1)
		if _, err := io.ReadFull(r, buf); err != nil {
			close(b.events)
			return
		}
		var m map[string]any
		if json.Unmarshal(buf[:n], &m) != nil {
			continue
		}
		if m["response"] == true {
			b.resp <- m
		} else {
			b.events <- m
		}
	}
}

// command sends a ctrl_tcp command and waits for its response.
func (b *baresip) command(cmd, params string) error {
	b.respMu.Lock()
	defer b.respMu.Unlock()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "t"})
	if _, err := fmt.Fprintf(b.ctrl, "%d:%s,", len(msg), msg); err != nil {
		return err
	}
	select {
	case r := <-b.resp:
		if r["ok"] != true {
			return fmt.Errorf("baresip %s: %v", cmd, r["data"])
		}
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("baresip %s: no response", cmd)
	}
}

// waitEvent waits for an event of type typ.
func (b *baresip) waitEvent(typ string, d time.Duration) (map[string]any, error) {
	timeout := time.After(d)
	for {
		select {
		case e, ok := <-b.events:
			if !ok {
				return nil, errors.New("baresip ctrl connection closed")
			}
			if e["type"] == typ {
				return e, nil
			}
		case <-timeout:
			return nil, fmt.Errorf("no %s event from baresip within %s", typ, d)
		}
	}
}

// recording returns what baresip decoded from us in its last call.
func (b *baresip) recording() ([]int16, error) {
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) == 0 {
		return nil, errors.New("baresip wrote no dump-*-dec.wav recording")
	}
	return audio.ReadWAV(files[len(files)-1])
}

// TestBaresip runs the interop tests inside a private network namespace: the
// parent re-executes the test binary under unshare -n.
func TestBaresip(t *testing.T) {
	if _, err := exec.LookPath("baresip"); err != nil {
		testenv.Missing(t, "baresip not installed: apt-get install -y baresip-core")
	}
	if !netns.Inside() {
		// A hang guard only: the run normally takes 20-30 s.
		ctx, cancel := context.WithTimeout(context.Background(), 170*time.Second)
		defer cancel()
		args := []string{os.Args[0], "-test.run=^TestBaresip$", "-test.v", "-test.count=1"}
		cmd, err := netns.Command(ctx, args...)
		if err != nil {
			testenv.Missing(t, "cannot isolate baresip in a network namespace (run as root with CAP_SYS_ADMIN): %v", err)
		}
		out, err := cmd.CombinedOutput()
		t.Logf("inside the network namespace:\n%s", out)
		if err != nil {
			t.Fatalf("baresip tests in the namespace failed: %v", err)
		}
		if !strings.Contains(string(out), "--- PASS: TestBaresip") {
			t.Fatal("the namespaced run did not pass TestBaresip")
		}
		return
	}
	if err := netns.LoopbackUp(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	long := filepath.Join(dir, "tone1000-30s.wav")
	short := filepath.Join(dir, "tone1000-2s.wav")
	for path, frames := range map[string]int{long: 1500, short: 100} {
		tone := &audio.Tone{Freq: 1000, Frames: frames}
		var s []int16
		f := make([]int16, audio.FrameSamples)
		for tone.ReadFrame(f) == nil {
			s = append(s, f...)
		}
		if err := audio.WriteWAV(path, s); err != nil {
			t.Fatal(err)
		}
	}
	probes := []float64{300, 440, 700, 1000, 1500, 2500}

	for i, tc := range []struct {
		transport string
		codec     string
	}{{"udp", "PCMU"}, {"tcp", "PCMA"}, {"udp", "PCMA"}, {"tcp", "PCMU"}} {
		t.Run("we-call-baresip/"+tc.transport+"/"+tc.codec, func(t *testing.T) {
			bs := startBaresip(t, "bob", long, "PCMU/8000/1,PCMA/8000/1", 20000+200*i)
			p := startPhone(t, Config{User: "alice", Codecs: []string{tc.codec, "telephone-event"}, MediaPorts: mediaRange(i)})
			heard := &audio.Buffer{}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			call, err := p.Dial(ctx, fmt.Sprintf("sip:bob@127.0.0.1:%d", bs.sipPort), CallOptions{Source: &audio.Tone{Freq: 440}, Sink: heard, Transport: tc.transport})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if call.Codec() != tc.codec {
				t.Errorf("Codec() = %s, want %s", call.Codec(), tc.codec)
			}
			waitFor(t, "1.5 s of audio from baresip", 15*time.Second, func() bool { return call.Stats().PacketsReceived >= 75 && heard.Frames() >= 75 })
			if i == 0 {
				// baresip reports every 5 s; check the RTT once.
				deadline := time.Now().Add(25 * time.Second)
				for call.Stats().RTT == 0 {
					if time.Now().After(deadline) {
						t.Fatalf("no RTT from baresip's RTCP reports within 25 s: %s, RTCP received %d", call.Stats(), call.Stats().RTCPReceived)
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			st := call.Stats()
			if i%2 == 0 {
				// We hang up.
				if err := call.Hangup(ctx); err != nil {
					t.Fatalf("Hangup: %v", err)
				}
			} else {
				// baresip hangs up (its "hangup" command sends BYE).
				if err := bs.command("hangup", ""); err != nil {
					t.Fatal(err)
				}
				select {
				case <-call.Done():
				case <-time.After(10 * time.Second):
					t.Fatal("baresip's BYE did not end our call")
				}
				if !errors.Is(call.Reason(), ErrRemoteHangup) {
					t.Errorf("Reason() = %v, want ErrRemoteHangup", call.Reason())
				}
			}
			if _, err := bs.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			t.Logf("setup %s, stats: %s", call.SetupTime(), st)
			if st.PacketsReceived < 75 || st.Lost > int64(st.Expected)/20 {
				t.Errorf("stats = %s, want >= 75 packets and under 5%% loss on loopback", st)
			}
			if !audio.DominantTone(heard.Samples(), 1000, probes, 10) {
				t.Errorf("we did not hear baresip's 1000 Hz tone")
			}
			rec, err := waitRecording(bs)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec) < 8000 || !audio.DominantTone(rec, 440, probes, 10) {
				t.Errorf("baresip's recording (%d samples) does not hold our 440 Hz tone", len(rec))
			}
		})
	}

	for i, tc := range []struct {
		transport string
		codec     string
	}{{"udp", "PCMA"}, {"tcp", "PCMU"}, {"udp", "PCMU"}, {"tcp", "PCMA"}} {
		t.Run("baresip-calls-us/"+tc.transport+"/"+tc.codec, func(t *testing.T) {
			// baresip plays 2 s, then hangs up by itself (end of file).
			bs := startBaresip(t, "carol", short, tc.codec+"/8000/1", 21000+200*i)
			heard := &audio.Buffer{}
			calls := make(chan *Call, 1)
			p := startPhone(t, Config{User: "rtc", MediaPorts: mediaRange(4 + i), OnIncoming: func(in *Incoming) {
				if in.Transport != tc.transport {
					t.Errorf("incoming Transport = %s, want %s", in.Transport, tc.transport)
				}
				c, err := in.Answer(CallOptions{Source: &audio.Tone{Freq: 440}, Sink: heard})
				if err != nil {
					t.Errorf("Answer: %v", err)
					return
				}
				calls <- c
			}})
			uri := fmt.Sprintf("sip:rtc@127.0.0.1:%d", p.Port(tc.transport))
			if tc.transport == "tcp" {
				uri += ";transport=tcp"
			}
			if err := bs.command("dial", uri); err != nil {
				t.Fatal(err)
			}
			var call *Call
			select {
			case call = <-calls:
			case <-time.After(15 * time.Second):
				t.Fatal("baresip's call did not arrive")
			}
			select {
			case <-call.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("baresip did not hang up at the end of its file")
			}
			if !errors.Is(call.Reason(), ErrRemoteHangup) {
				t.Errorf("Reason() = %v, want ErrRemoteHangup", call.Reason())
			}
			st := call.Stats()
			t.Logf("setup %s, stats: %s", call.SetupTime(), st)
			if call.Codec() != tc.codec {
				t.Errorf("Codec() = %s, want %s", call.Codec(), tc.codec)
			}
			if st.PacketsReceived < 50 {
				t.Errorf("stats = %s, want >= 50 packets", st)
			}
			if !audio.DominantTone(heard.Samples(), 1000, probes, 10) {
				t.Errorf("we did not hear baresip's 1000 Hz tone")
			}
			if _, err := bs.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			rec, err := waitRecording(bs)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec) < 4000 || !audio.DominantTone(rec, 440, probes, 10) {
				t.Errorf("baresip's recording (%d samples) does not hold our 440 Hz tone", len(rec))
			}
		})
	}

	// baresip sends DTMF in the audio's sequence space and puts the call
	// on hold: digits arrive as events, no loss is counted, the held call
	// outlives the media timeout, resume brings the audio back.
	t.Run("dtmf-hold", func(t *testing.T) {
		bs := startBaresip(t, "erin", long, "PCMU/8000/1,telephone-event/8000", 22000)
		digits := make(chan byte, 16)
		calls := make(chan *Call, 1)
		p := startPhone(t, Config{User: "rtc", MediaPorts: mediaRange(9), MediaTimeout: time.Second, OnIncoming: func(in *Incoming) {
			c, err := in.Answer(CallOptions{Source: &audio.Tone{Freq: 440}, OnDTMF: func(d byte) { digits <- d }})
			if err == nil {
				calls <- c
			}
		}})
		if err := bs.command("dial", fmt.Sprintf("sip:rtc@127.0.0.1:%d", p.Port("udp"))); err != nil {
			t.Fatal(err)
		}
		var call *Call
		select {
		case call = <-calls:
		case <-time.After(15 * time.Second):
			t.Fatal("baresip's call did not arrive")
		}
		waitFor(t, "audio from baresip", 10*time.Second, func() bool { return call.Stats().PacketsReceived >= 25 })
		for _, d := range "159" {
			if err := bs.command("sndcode", string(d)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(250 * time.Millisecond)
		}
		var got []byte
		for len(got) < 3 {
			select {
			case d := <-digits:
				got = append(got, d)
			case <-time.After(5 * time.Second):
				t.Fatalf("DTMF from baresip: got %q, want 159", got)
			}
		}
		if string(got) != "159" {
			t.Errorf("DTMF from baresip = %q, want 159", got)
		}
		time.Sleep(300 * time.Millisecond)
		if st := call.Stats(); st.Lost > 1 {
			t.Errorf("after baresip's DTMF: %s; want no loss counted for telephone events", st)
		}
		if err := bs.command("hold", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the call held", 5*time.Second, call.Held)
		time.Sleep(2500 * time.Millisecond) // over twice the media timeout
		select {
		case <-call.Done():
			t.Fatalf("held call ended: %v", call.Reason())
		default:
		}
		if err := bs.command("resume", ""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the call resumed", 5*time.Second, func() bool { return !call.Held() })
		n := call.Stats().PacketsReceived
		waitFor(t, "audio after resume", 5*time.Second, func() bool { return call.Stats().PacketsReceived >= n+25 })
		t.Logf("stats: %s", call.Stats())
		call.Hangup(context.Background())
	})

	t.Run("setup-time", func(t *testing.T) { benchSetup(t, short) })
}

func mediaRange(i int) media.PortRange {
	return media.PortRange{Min: 30000 + 500*i, Max: 30499 + 500*i}
}

// waitRecording waits until baresip's sndfile recording is finalised: it
// closes the file when the call is torn down, which can be just after the
// CALL_CLOSED event, so wait for a non-empty length that stays put.
func waitRecording(bs *baresip) ([]int16, error) {
	var rec []int16
	var err error
	last := -1
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rec, err = bs.recording()
		if err == nil && len(rec) > 0 && len(rec) == last {
			return rec, nil
		}
		if err == nil {
			last = len(rec)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return rec, err
}

// sipTap is a SIP-unaware UDP forwarder between a caller and a callee that
// timestamps each INVITE going one way and its 200 OK coming back, so both
// baresip and our phone are timed at the same point on the wire.
type sipTap struct {
	front   *net.UDPConn // the caller sends here
	back    *net.UDPConn // we send to the callee from here
	callee  *net.UDPAddr
	mu      sync.Mutex
	caller  *net.UDPAddr
	invites map[string]time.Time // Call-ID -> first INVITE seen
	setups  []time.Duration
}

func newSIPTap(t *testing.T, calleePort int) *sipTap {
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	tp := &sipTap{front: front, back: back, callee: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: calleePort}, invites: map[string]time.Time{}}
	t.Cleanup(func() { front.Close(); back.Close() })
	go tp.pump(front, true)
	go tp.pump(back, false)
	return tp
}

func (tp *sipTap) port() int { return tp.front.LocalAddr().(*net.UDPAddr).Port }

func sipHeader(msg, name string) string {
	for _, line := range strings.Split(msg, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (tp *sipTap) pump(c *net.UDPConn, forward bool) {
	buf := make([]byte, 65535)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		now := time.Now()
		msg := string(buf[:n])
		tp.mu.Lock()
		callID := sipHeader(msg, "Call-ID")
		if forward {
			tp.caller = from
			if strings.HasPrefix(msg, "INVITE ") {
				if _, seen := tp.invites[callID]; !seen {
					tp.invites[callID] = now
				}
			}
			tp.back.WriteToUDP(buf[:n], tp.callee)
		} else {
			if strings.HasPrefix(msg, "SIP/2.0 200") && strings.HasSuffix(sipHeader(msg, "CSeq"), "INVITE") {
				if t0, ok := tp.invites[callID]; ok {
					tp.setups = append(tp.setups, now.Sub(t0))
					delete(tp.invites, callID)
				}
			}
			if tp.caller != nil {
				tp.front.WriteToUDP(buf[:n], tp.caller)
			}
		}
		tp.mu.Unlock()
	}
}

func (tp *sipTap) results() []time.Duration {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]time.Duration(nil), tp.setups...)
}

// benchSetup measures INVITE -> 200 OK with baresip and with our phone on
// either side, timed on the wire by a sipTap, in the same namespace and run.
func benchSetup(t *testing.T, wav string) {
	const n = 10
	bob := startBaresip(t, "bob", wav, "PCMU/8000/1", 23000)
	dave := startBaresip(t, "dave", wav, "PCMU/8000/1", 23200)
	p := startPhone(t, Config{User: "rtc", Codecs: []string{"PCMU"}, MediaPorts: mediaRange(9)})
	ctx := context.Background()

	// Our phone calling baresip.
	toBob := newSIPTap(t, bob.sipPort)
	var dialTimes []time.Duration
	for range n {
		call, err := p.Dial(ctx, fmt.Sprintf("sip:bob@127.0.0.1:%d", toBob.port()), CallOptions{})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		dialTimes = append(dialTimes, call.SetupTime())
		call.Hangup(ctx)
		if _, err := bob.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	usToBob := toBob.results()

	dial := func(port int, user string) {
		if err := dave.command("dial", fmt.Sprintf("sip:%s@127.0.0.1:%d", user, port)); err != nil {
			t.Fatal(err)
		}
		if _, err := dave.waitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := dave.command("hangup", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := dave.waitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	// baresip calling baresip, then baresip calling us.
	daveToBob := newSIPTap(t, bob.sipPort)
	for range n {
		dial(daveToBob.port(), "bob")
		bob.waitEvent("CALL_CLOSED", 5*time.Second)
	}
	daveToUs := newSIPTap(t, p.Port("udp"))
	for range n {
		dial(daveToUs.port(), "rtc")
	}
	t.Logf("BENCH call setup over UDP, INVITE -> 200 OK timed on the wire, median of %d (min..max):", n)
	t.Logf("BENCH   baresip -> baresip: %s", summary(daveToBob.results()))
	t.Logf("BENCH   baresip -> rtc:     %s", summary(daveToUs.results()))
	t.Logf("BENCH   rtc -> baresip:     %s (Dial's own INVITE->200: %s)", summary(usToBob), summary(dialTimes))
}

func summary(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := append([]time.Duration(nil), ds...)
	slices.Sort(s)
	return fmt.Sprintf("%s (%s..%s)", s[len(s)/2].Round(10*time.Microsecond), s[0].Round(10*time.Microsecond), s[len(s)-1].Round(10*time.Microsecond))
}

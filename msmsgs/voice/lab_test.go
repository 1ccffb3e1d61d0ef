package voice

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/wininet/passport"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// The lab tests run the real messengerd (built from ../../messengerd) and
// two real msmsgs clients signed in to it; the invitations cross its
// switchboard.

var (
	labOnce sync.Once
	labBin  string
	labErr  error
)

// TestMain removes the messengerd the lab tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if labBin != "" {
		os.RemoveAll(filepath.Dir(labBin))
	}
	os.Exit(code)
}

func messengerd(t testing.TB) string {
	t.Helper()
	labOnce.Do(func() {
		dir, err := os.MkdirTemp("", "voice-lab-")
		if err != nil {
			labErr = err
			return
		}
		root, _ := filepath.Abs("../..")
		labBin = filepath.Join(dir, "messengerd")
		cmd := exec.Command("go", "build", "-o", labBin, "./messengerd")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			labErr = fmt.Errorf("go build ./messengerd: %v\n%s", err, out)
		}
	})
	if labErr != nil {
		t.Fatal(labErr)
	}
	return labBin
}

type labReady struct {
	Addr  string `json:"addr"`
	Nexus string `json:"nexus"`
	CA    string `json:"ca"`
}

// startLab runs messengerd serve with the given users (password "pw").
func startLab(t testing.TB, users ...string) labReady {
	t.Helper()
	bin := messengerd(t)
	data := t.TempDir()
	for _, u := range users {
		cmd := exec.Command(bin, "user", "add", "-data", data, u)
		cmd.Stdin = strings.NewReader("pw\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("messengerd user add %s: %v\n%s", u, err, out)
		}
	}
	cmd := exec.Command(bin, "serve", "-data", data, "-addr", "127.0.0.1:0", "-https", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		io.Copy(io.Discard, out)
	}()
	var r labReady
	select {
	case l, ok := <-line:
		if !ok {
			t.Fatalf("messengerd exited: %s", stderr.String())
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("ready line %q: %v", l, err)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("messengerd not ready in 60 s: %s", stderr.String())
	}
	return r
}

// labUser is one signed-in msmsgs client with its call manager.
type labUser struct {
	c    *client.Client
	m    *Manager
	rec  *recorder
	ends *audioEnds
	// bodies received by the invitation hook and sent by the manager, to
	// check the relay.
	mu     sync.Mutex
	bodies map[string][][]byte // by sender
	sent   map[string][][]byte // by recipient
}

// recordingTransport notes what the manager sends.
type recordingTransport struct {
	ClientTransport
	u *labUser
}

func (r recordingTransport) Send(ctx context.Context, conv string, body []byte) error {
	r.u.mu.Lock()
	if cv := r.C.Conversation(conv); cv != nil {
		for _, to := range cv.Members() {
			r.u.sent[to] = append(r.u.sent[to], append([]byte(nil), body...))
		}
	}
	r.u.mu.Unlock()
	return r.ClientTransport.Send(ctx, conv, body)
}

func signIn(t testing.TB, r labReady, account string, tone float64, mod func(*Config)) *labUser {
	t.Helper()
	pem, err := os.ReadFile(r.CA)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", r.CA)
	}
	pp := &passport.Client{HTTP: passport.NewHTTPClient(roots, nil), Nexus: r.Nexus, Logger: slog.New(slog.DiscardHandler)}
	u := &labUser{ends: &audioEnds{freq: tone}, bodies: map[string][][]byte{}, sent: map[string][][]byte{}}
	c, err := client.New(client.Config{Server: r.Addr, Account: account, Password: "pw", Login: pp.Login,
		Logger: slog.New(slog.DiscardHandler), CallTimeout: 10 * time.Second, AckTimeout: 10 * time.Second,
		OnInvite: func(cv *client.Conversation, from string, h msnp.Header) bool {
			b, _ := h.AppendTo(nil)
			b = append(b, '\r', '\n')
			u.mu.Lock()
			u.bodies[from] = append(u.bodies[from], b)
			u.mu.Unlock()
			return u.m.DeliverFields(cv.ID(), from, h)
		}})
	if err != nil {
		t.Fatal(err)
	}
	u.c = c
	u.m, u.rec = newTestManager(t, recordingTransport{ClientTransport{C: c}, u}, u.ends, mod)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := c.WaitSignedIn(wctx); err != nil {
		t.Fatalf("%s: sign in: %v", account, err)
	}
	return u
}

// TestLabCall places calls between two msmsgs clients through messengerd:
// invitations over its switchboard, then SIP and RTP between the two
// managers, a tone each way, hang-up; and checks the switchboard relayed
// every invitation body unchanged.
func TestLabCall(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (builds and runs messengerd)")
	}
	r := startLab(t, "alice@example.com", "bob@example.com", "carol@example.com")
	alice := signIn(t, r, "alice@example.com", 440, nil)
	bob := signIn(t, r, "bob@example.com", 1000, nil)
	carol := signIn(t, r, "carol@example.com", 2000, nil)
	// Bob answers every offer and notes the digits he receives.
	digits := make(chan string, 16)
	go func() {
		for e := range bob.rec.c {
			switch e.Type {
			case EventOffer:
				if err := bob.m.Answer(e.Call); err != nil {
					t.Errorf("bob answers: %v", err)
				}
			case EventDTMF:
				digits <- e.Digits
			}
		}
	}()
	ctx := context.Background()
	var setups []time.Duration
	for i := range 3 {
		start := time.Now()
		id, err := alice.m.Call(ctx, "bob@example.com")
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		e := alice.rec.wait(t, EventConnected, 20*time.Second)
		setup := time.Since(start)
		setups = append(setups, setup)
		if e.Call != id || e.Codec != "PCMU" || e.Account != "bob@example.com" {
			t.Errorf("call-connected = %+v", e)
		}
		t.Logf("call %d: Call() to call-connected %s, of it SIP INVITE to 200 OK %s (conversation %s)", i, setup.Round(100*time.Microsecond), e.SIPSetup.Round(100*time.Microsecond), e.Conversation)
		if setup > 150*time.Millisecond {
			t.Errorf("call setup %s through messengerd on loopback, target under 150 ms", setup)
		}
		if i == 0 {
			time.Sleep(1500 * time.Millisecond)
			st := alice.rec.wait(t, EventStats, 5*time.Second).Stats
			if st.Received == 0 || st.Loss > 0.05 {
				t.Errorf("call-stats %+v: want audio received with little loss", st)
			}
			if h := bob.ends.last().Samples(); !audio.DominantTone(h, 440, []float64{1000, 2000}, 10) {
				t.Errorf("bob did not hear alice's 440 Hz (%d samples)", len(h))
			}
			if h := alice.ends.last().Samples(); !audio.DominantTone(h, 1000, []float64{440, 2000}, 10) {
				t.Errorf("alice did not hear bob's 1000 Hz (%d samples)", len(h))
			}
			// DTMF from alice arrives at bob as call-dtmf events.
			if err := alice.m.DTMF(id, "12#"); err != nil {
				t.Fatal(err)
			}
			var got string
			for len(got) < 3 {
				select {
				case d := <-digits:
					got += d
				case <-time.After(5 * time.Second):
					t.Fatalf("bob got DTMF %q, want 12#", got)
				}
			}
			if got != "12#" {
				t.Errorf("bob got DTMF %q, want 12#", got)
			}
			// Muted, alice sends silence; unmuted, her tone again.
			if err := alice.m.Mute(id, true); err != nil {
				t.Fatal(err)
			}
			time.Sleep(400 * time.Millisecond)
			n := len(bob.ends.last().Samples())
			time.Sleep(500 * time.Millisecond)
			muted := bob.ends.last().Samples()[n:]
			if audio.Goertzel(muted, 440, audio.SampleRate) > 1e-5 {
				t.Errorf("bob hears alice's 440 Hz while she is muted")
			}
			if cs := alice.m.Calls(); len(cs) != 1 || !cs[0].Muted {
				t.Errorf("Calls() while muted = %+v", cs)
			}
			alice.m.Mute(id, false)
			time.Sleep(400 * time.Millisecond)
			n = len(bob.ends.last().Samples())
			time.Sleep(400 * time.Millisecond)
			if h := bob.ends.last().Samples()[n:]; !audio.DominantTone(h, 440, []float64{1000, 2000}, 10) {
				t.Errorf("bob does not hear alice's 440 Hz after unmute")
			}
			// A third party calling bob while he is in a call is declined.
			_, err := carol.m.Call(ctx, "bob@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if e := carol.rec.wait(t, EventEnded, 10*time.Second); e.Reason != "peer cancelled: "+CancelBusy {
				t.Errorf("carol's call to busy bob ended %q, want peer cancelled: %s", e.Reason, CancelBusy)
			}
			if cs := alice.m.Calls(); len(cs) != 1 || cs[0].Phase != "connected" {
				t.Errorf("alice's call after carol's attempt: %+v", cs)
			}
		}
		if err := alice.m.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if e := alice.rec.wait(t, EventEnded, 5*time.Second); e.Reason != "local hang-up" {
			t.Errorf("alice: call-ended %q", e.Reason)
		}
		waitCalls(t, bob.m, 0)
	}
	sort.Slice(setups, func(i, j int) bool { return setups[i] < setups[j] })
	t.Logf("setup through messengerd: min %s, median %s, max %s", setups[0], setups[1], setups[2])

	// The switchboard relayed every body unchanged: what each side's hook
	// got is, in order, what the other side's manager sent.
	relayed(t, alice, bob)
	relayed(t, bob, alice)
	relayed(t, carol, bob)
	relayed(t, bob, carol)
}

func relayed(t *testing.T, from, to *labUser) {
	t.Helper()
	from.mu.Lock()
	to.mu.Lock()
	defer from.mu.Unlock()
	defer to.mu.Unlock()
	got, sent := to.bodies[from.c.Account()], from.sent[to.c.Account()]
	if len(sent) == 0 || len(sent) != len(got) {
		t.Fatalf("%s sent %d invitations, %s received %d", from.c.Account(), len(sent), to.c.Account(), len(got))
	}
	for i := range sent {
		if !bytes.Equal(sent[i], got[i]) {
			t.Errorf("invitation %d: %s sent %q, %s received %q", i, from.c.Account(), sent[i], to.c.Account(), got[i])
		}
	}
}

func waitCalls(t testing.TB, m *Manager, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(m.Calls()) != n {
		if time.Now().After(deadline) {
			t.Fatalf("Calls() = %+v, want %d", m.Calls(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkLabCallSetup measures Call() to call-connected between two
// msmsgs clients through messengerd on loopback, the call hung up between
// iterations: in the conversation already open (Reused), and with a new
// conversation each time (NewConversation: XFR SB, USR, CAL, JOI first).
func BenchmarkLabCallSetup(b *testing.B) {
	r := startLab(b, "alice@example.com", "bob@example.com")
	alice := signIn(b, r, "alice@example.com", 440, nil)
	// More calls a minute than the flood limit lets through by default.
	bob := signIn(b, r, "bob@example.com", 1000, func(c *Config) { c.MaxInvites = 1 << 20 })
	go func() {
		for e := range bob.rec.c {
			if e.Type == EventOffer {
				bob.m.Answer(e.Call)
			}
		}
	}()
	ctx := context.Background()
	for _, fresh := range []bool{false, true} {
		name := "Reused"
		if fresh {
			name = "NewConversation"
		}
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				start := time.Now()
				id, err := alice.m.Call(ctx, "bob@example.com")
				if err != nil {
					b.Fatal(err)
				}
				e := alice.rec.wait(b, EventConnected, 20*time.Second)
				total += time.Since(start)
				b.StopTimer()
				alice.m.Hangup(id)
				alice.rec.wait(b, EventEnded, 5*time.Second)
				waitCalls(b, bob.m, 0)
				if fresh {
					cv := alice.c.Conversation(e.Conversation)
					cv.Close()
					<-cv.Done()
					for len(bob.c.Conversations()) != 0 {
						time.Sleep(time.Millisecond)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/setup")
		})
	}
}

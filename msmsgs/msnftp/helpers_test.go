package msnftp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testTimeout bounds every test transfer; generous for a loaded machine.
const testTimeout = 2 * time.Minute

// freePorts returns an allocator over n consecutive loopback ports that
// were free a moment ago. Tests do not use 6891-6900, which a running
// msmsgs may hold.
func freePorts(t testing.TB, n int) *Ports {
	t.Helper()
	for try := 0; try < 100; try++ {
		low := 20000 + mrand.IntN(12000)
		ok := true
		for p := low; p < low+n && ok; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			ports, err := NewPorts("127.0.0.1", low, low+n-1)
			if err != nil {
				t.Fatal(err)
			}
			return ports
		}
	}
	t.Fatalf("no %d consecutive free ports found", n)
	return nil
}

// testFile writes size random bytes to a new file and returns its path and
// hex sha256.
func testFile(t testing.TB, dir string, size int64) (string, string) {
	t.Helper()
	f, err := os.CreateTemp(dir, "src-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(io.MultiWriter(f, h), rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	return f.Name(), hex.EncodeToString(h.Sum(nil))
}

func fileSHA(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dirNames lists every entry of dir, hidden ones included.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// events collects events safely and lets tests wait for one.
type events struct {
	mu   sync.Mutex
	list []Event
	ch   chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 1<<12)} }

func (e *events) notify(ev Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
	select {
	case e.ch <- ev:
	default:
	}
}

func (e *events) all() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.list...)
}

// waitFor returns the first event (from now on) that matches.
func (e *events) waitFor(t testing.TB, match func(Event) bool) Event {
	t.Helper()
	timer := time.NewTimer(testTimeout)
	defer timer.Stop()
	for {
		select {
		case ev := <-e.ch:
			if match(ev) {
				return ev
			}
		case <-timer.C:
			t.Fatal("timed out waiting for an event")
			return Event{}
		}
	}
}

// roundTrip passes an invitation through its wire form, as the
// conversation would.
func roundTrip(t testing.TB, inv *Invitation) *Invitation {
	t.Helper()
	got, err := ParseMessage(inv.Message())
	if err != nil {
		t.Fatalf("ParseMessage(%q) = %v", inv.Message(), err)
	}
	return got
}

type result struct {
	path string
	err  error
}

// transfer runs one whole negotiation and transfer of the file at src
// (offered as name) from s to r. It returns the receiver's and the
// sender's results.
func transfer(t testing.TB, ctx context.Context, s *Sender, r *Receiver, src, name string) (result, error) {
	t.Helper()
	st, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := NewOffer(name, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	offerSeen := roundTrip(t, offer)
	if err := r.Check(offerSeen); err != nil {
		return result{err: err}, nil
	}
	roundTrip(t, offerSeen.ReceiverAccept())
	l, err := s.Listen(ctx, offer)
	if err != nil {
		return result{}, err
	}
	acc := roundTrip(t, l.Accept())
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	serr := make(chan error, 1)
	go func() { serr <- l.Serve(ctx, f) }()
	p, rerr := r.Receive(ctx, offerSeen, acc)
	return result{p, rerr}, <-serr
}

func isErr(err, target error) bool { return errors.Is(err, target) }

func rcvIn(dir string) *Receiver {
	return &Receiver{Email: "bob@example.com", Dir: dir}
}

func newSender(ports *Ports) *Sender {
	return &Sender{Ports: ports, Address: "127.0.0.1"}
}

func mkdir(t testing.TB, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

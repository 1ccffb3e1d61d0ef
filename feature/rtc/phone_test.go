package rtc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/media"
)

func startPhone(t *testing.T, cfg Config) *Phone {
	t.Helper()
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	if cfg.MediaPorts == (media.PortRange{}) {
		cfg.MediaPorts = media.PortRange{Min: 20000, Max: 29999}
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLoopbackCall(t *testing.T) {
	for _, tc := range []struct {
		transport string
		codecs    []string
	}{
		{"udp", []string{"PCMU"}},
		{"tcp", []string{"PCMA", "telephone-event"}},
	} {
		t.Run(tc.transport+"/"+tc.codecs[0], func(t *testing.T) {
			recvB := &audio.Buffer{}
			answered := make(chan *Call, 1)
			b := startPhone(t, Config{User: "bob", Codecs: tc.codecs, OnIncoming: func(in *Incoming) {
				c, err := in.Answer(CallOptions{Source: &audio.Tone{Freq: 1000}, Sink: recvB})
				if err != nil {
					t.Errorf("Answer: %v", err)
					return
				}
				answered <- c
			}})
			a := startPhone(t, Config{User: "alice"})
			recvA := &audio.Buffer{}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			port := b.Port(tc.transport)
			call, err := a.Dial(ctx, "sip:bob@127.0.0.1:"+itoa(port), CallOptions{Source: &audio.Tone{Freq: 440}, Sink: recvA, Transport: tc.transport})
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if call.Codec() != tc.codecs[0] {
				t.Errorf("Codec() = %s, want %s", call.Codec(), tc.codecs[0])
			}
			bc := <-answered
			waitFor(t, "1 s of audio each way", 15*time.Second, func() bool { return recvA.Frames() >= 50 && recvB.Frames() >= 50 })
			if err := call.Hangup(ctx); err != nil {
				t.Fatalf("Hangup: %v", err)
			}
			select {
			case <-bc.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("callee did not see the BYE")
			}
			if !errors.Is(bc.Reason(), ErrRemoteHangup) {
				t.Errorf("callee Reason() = %v, want ErrRemoteHangup", bc.Reason())
			}
			if !audio.DominantTone(recvB.Samples(), 440, []float64{1000, 300, 2000}, 10) {
				t.Errorf("callee did not hear 440 Hz")
			}
			if !audio.DominantTone(recvA.Samples(), 1000, []float64{440, 300, 2000}, 10) {
				t.Errorf("caller did not hear 1000 Hz")
			}
			t.Logf("caller: %s", call.Stats())
			t.Logf("callee: %s", bc.Stats())
		})
	}
}

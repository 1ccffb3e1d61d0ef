package media

import (
	"net"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
)

// Telephone events share the audio's sequence space (RFC 4733 2.1): the
// jitter buffer steps over them without concealing, whether they come
// between audio packets or stand in for audio.
func TestJitterBufferEvents(t *testing.T) {
	j := NewJitterBuffer(JitterConfig{})
	play := func() string {
		f, ok := j.Pop()
		switch {
		case !ok:
			return "-"
		case f.Event:
			return "e"
		case f.Concealed:
			return "~"
		}
		return string(f.Payload)
	}
	var got []string
	// Interleaved: audio 1 2, event 3, audio 4 5.
	j.Push(1, 1, []byte("1"))
	j.Push(1, 2, []byte("2"))
	j.PushEvent(1, 3)
	j.Push(1, 4, []byte("4"))
	j.Push(1, 5, []byte("5"))
	for range 4 {
		got = append(got, play())
	}
	// Events instead of audio: 6 and 7 are events, 8 audio, one per tick.
	j.PushEvent(1, 6)
	got = append(got, play())
	j.PushEvent(1, 7)
	got = append(got, play())
	j.Push(1, 8, []byte("8"))
	got = append(got, play())
	want := "1 2 4 5 e e 8"
	if g := join(got); g != want {
		t.Errorf("played %q, want %q", g, want)
	}
	if s := j.Stats(); s.Concealed != 0 || s.Underruns != 0 || s.Target != 1 || s.Late != 0 {
		t.Errorf("stats %+v: want no concealment, underrun, late packet, and target 1", s)
	}
}

func join(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

// TestDTMFNotLoss: a call carrying DTMF between its audio packets reports
// no loss and keeps its jitter buffer depth.
func TestDTMFNotLoss(t *testing.T) {
	c, _ := NewCodec("PCMU", 0)
	aRTP, aRTCP := listenPair(t)
	bRTP, bRTCP := listenPair(t)
	a, err := Start(Config{RTP: aRTP, RTCP: aRTCP, Remote: bRTP.LocalAddr().(*net.UDPAddr), Codec: c, EventPT: 101, Source: &audio.Tone{Freq: 440}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Start(Config{RTP: bRTP, RTCP: bRTCP, Remote: aRTP.LocalAddr().(*net.UDPAddr), Codec: c, EventPT: 101})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	time.Sleep(200 * time.Millisecond)
	for _, d := range []byte("123456") {
		if err := a.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	s := b.Stats()
	if s.DTMFReceived != "123456" {
		t.Fatalf("DTMFReceived = %q", s.DTMFReceived)
	}
	// 6 events of 8 packets each took 48 sequence numbers.
	if s.Lost != 0 || s.Buffer.Concealed > 3 || s.Buffer.Target > 2 {
		t.Errorf("after DTMF: lost %d, concealed %d, target %d; want 0 lost, no concealment for the events, target unchanged (%s)",
			s.Lost, s.Buffer.Concealed, s.Buffer.Target, s)
	}
}

// TestDTMFEvents: received digits reach OnDTMF, in order.
func TestDTMFEvents(t *testing.T) {
	c, _ := NewCodec("PCMU", 0)
	aRTP, aRTCP := listenPair(t)
	bRTP, bRTCP := listenPair(t)
	a, err := Start(Config{RTP: aRTP, RTCP: aRTCP, Remote: bRTP.LocalAddr().(*net.UDPAddr), Codec: c, EventPT: 101})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	got := make(chan byte, 16)
	b, err := Start(Config{RTP: bRTP, RTCP: bRTCP, Remote: aRTP.LocalAddr().(*net.UDPAddr), Codec: c, EventPT: 101,
		OnDTMF: func(d byte) { got <- d }})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, d := range []byte("*07#") {
		if err := a.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
	}
	var s []byte
	for len(s) < 4 {
		select {
		case d := <-got:
			s = append(s, d)
		case <-time.After(5 * time.Second):
			t.Fatalf("OnDTMF got %q, want *07#", s)
		}
	}
	if string(s) != "*07#" {
		t.Errorf("OnDTMF got %q, want *07#", s)
	}
}

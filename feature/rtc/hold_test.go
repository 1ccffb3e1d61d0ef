package rtc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// TestHoldResume: re-INVITEs that put the call on hold and take it off
// (RFC 3264 8.4) are answered with the mirrored direction, the held side
// stops sending, the held call outlives the media timeout, and resuming
// brings the audio back.
func TestHoldResume(t *testing.T) {
	answered := make(chan *Call, 1)
	b := startPhone(t, Config{MediaTimeout: 500 * time.Millisecond, OnIncoming: func(in *Incoming) {
		c, err := in.Answer(CallOptions{Source: &audio.Tone{Freq: 700}})
		if err == nil {
			answered <- c
		}
	}})
	a := startPhone(t, Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := a.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer call.Hangup(ctx)
	bc := <-answered
	port := call.rtpConn.LocalAddr().(*net.UDPAddr).Port
	version := uint64(2)
	reinvite := func(dir, want string) {
		t.Helper()
		offer := sdp.NewAudio(1, version, "127.0.0.1", port, []sdp.Codec{sdp.PCMU}, 20)
		version++
		offer.Media[0].Direction = dir
		req := sip.NewRequest(sip.INVITE, call.uac.InviteResponse.Contact().Address)
		req.SetBody(offer.Marshal())
		ct := sip.ContentTypeHeader("application/sdp")
		req.AppendHeader(&ct)
		res, err := call.uac.Do(ctx, req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("re-INVITE %s: %v %v", dir, res, err)
		}
		ack := sip.NewRequest(sip.ACK, call.uac.InviteResponse.Contact().Address)
		ack.AppendHeader(res.CSeq())
		call.uac.WriteAck(ctx, ack)
		ans, err := sdp.Parse(res.Body())
		if err != nil {
			t.Fatal(err)
		}
		got := ans.Media[0].Direction
		if got == "" {
			got = "sendrecv"
		}
		if got != want {
			t.Errorf("re-INVITE %s answered %s, want %s", dir, got, want)
		}
	}
	received := func() uint64 { return call.Stats().PacketsReceived }
	time.Sleep(200 * time.Millisecond)
	if received() == 0 {
		t.Fatal("no audio before hold")
	}

	reinvite("sendonly", "recvonly")
	if !bc.Held() {
		t.Error("callee does not report the call held")
	}
	time.Sleep(100 * time.Millisecond)
	before := received()
	time.Sleep(1500 * time.Millisecond) // three media timeouts
	if n := received() - before; n > 2 {
		t.Errorf("held callee sent %d RTP packets, want none (recvonly)", n)
	}
	select {
	case <-bc.Done():
		t.Fatalf("held call ended: %v", bc.Reason())
	default:
	}

	reinvite("inactive", "inactive")
	time.Sleep(700 * time.Millisecond)
	select {
	case <-bc.Done():
		t.Fatalf("inactive call ended: %v", bc.Reason())
	default:
	}

	reinvite("sendrecv", "sendrecv")
	if bc.Held() {
		t.Error("callee still reports the call held after resume")
	}
	before = received()
	time.Sleep(500 * time.Millisecond)
	if n := received() - before; n < 10 {
		t.Errorf("after resume the callee sent %d packets in 500 ms, want about 25", n)
	}
	if st := call.Stats(); st.Lost > 2 {
		t.Errorf("lost %d packets over hold and resume, want none (no sequence gap while held)", st.Lost)
	}
}

// TestRefusedReported: the callee learns of a call it refused for codecs
// (and the caller gets ErrNotAccepted), instead of seeing no call at all.
func TestRefusedReported(t *testing.T) {
	refused := make(chan Refused, 1)
	b := startPhone(t, Config{Codecs: []string{"PCMA"}, OnRefused: func(r Refused) { refused <- r },
		OnIncoming: func(in *Incoming) { t.Errorf("OnIncoming for an offer without a common codec") }})
	a := startPhone(t, Config{User: "alice", Codecs: []string{"PCMU"}})
	_, err := a.Dial(context.Background(), fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{})
	if !errors.Is(err, ErrNotAccepted) {
		t.Fatalf("Dial = %v, want ErrNotAccepted", err)
	}
	select {
	case r := <-refused:
		if r.Code != 488 || !errors.Is(r.Err, ErrNotAccepted) || !strings.Contains(r.Reason, "codec") || !strings.Contains(r.From, "alice") || r.Source == "" {
			t.Errorf("Refused = %+v, want 488 no common codec from alice", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnRefused not called")
	}
}

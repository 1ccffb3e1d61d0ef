package rtc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

func TestDialOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cfg      Config
		decide   func(*Incoming)
		wantErr  error
		maxSetup time.Duration
	}{
		{name: "reject busy", decide: func(in *Incoming) { in.Reject(486) }, wantErr: ErrBusy},
		{name: "reject decline", decide: func(in *Incoming) { in.Reject(603) }, wantErr: ErrRejected},
		{name: "no common codec", cfg: Config{Codecs: []string{"PCMA"}}, wantErr: ErrNotAccepted},
		{name: "ring timeout 480", cfg: Config{RingTimeout: 300 * time.Millisecond}, decide: func(*Incoming) {}, wantErr: ErrNoAnswer},
		{name: "max calls", cfg: Config{MaxCalls: -1}, wantErr: ErrBusy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.OnIncoming = tc.decide
			if cfg.MaxCalls < 0 {
				cfg.MaxCalls = 1
				cfg.OnIncoming = nil
			}
			b := startPhone(t, cfg)
			a := startPhone(t, Config{Codecs: []string{"PCMU"}})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			target := fmt.Sprintf("127.0.0.1:%d", b.Port("udp"))
			if tc.cfg.MaxCalls < 0 {
				// Fill the only line first.
				c, err := a.Dial(ctx, target, CallOptions{})
				if err != nil {
					t.Fatalf("first Dial: %v", err)
				}
				defer c.Hangup(ctx)
			}
			_, err := a.Dial(ctx, target, CallOptions{})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Dial() error = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestDialTimeoutCancels(t *testing.T) {
	cancelled := make(chan struct{})
	dialDone := make(chan struct{})
	b := startPhone(t, Config{OnIncoming: func(in *Incoming) {
		// Answer only after the caller gave up and cancelled: that must fail.
		<-dialDone
		if _, err := in.Answer(CallOptions{}); errors.Is(err, ErrDecided) {
			close(cancelled)
		} else {
			t.Errorf("Answer after CANCEL = %v, want ErrDecided", err)
		}
	}})
	a := startPhone(t, Config{InviteTimeout: 500 * time.Millisecond})
	start := time.Now()
	_, err := a.Dial(context.Background(), fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{})
	close(dialDone)
	if !errors.Is(err, ErrNoAnswer) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial() error = %v, want ErrNoAnswer", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Dial() took %s, want about the 500 ms timeout", d)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("callee still had a live call after the caller's CANCEL")
	}
	if n := len(b.Calls()); n != 0 {
		t.Errorf("callee has %d calls after CANCEL, want 0", n)
	}
}

func TestReinviteMovesMedia(t *testing.T) {
	answered := make(chan *Call, 1)
	b := startPhone(t, Config{OnIncoming: func(in *Incoming) {
		c, err := in.Answer(CallOptions{Source: &audio.Tone{Freq: 700}})
		if err == nil {
			answered <- c
		}
	}})
	a := startPhone(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := a.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bc := <-answered
	// New media socket on the caller side, announced by re-INVITE.
	moved, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer moved.Close()
	offer := sdp.NewAudio(1, 2, "127.0.0.1", moved.LocalAddr().(*net.UDPAddr).Port, []sdp.Codec{sdp.PCMU}, 20)
	req := sip.NewRequest(sip.INVITE, call.uac.InviteResponse.Contact().Address)
	req.SetBody(offer.Marshal())
	ct := sip.ContentTypeHeader("application/sdp")
	req.AppendHeader(&ct)
	res, err := call.uac.Do(ctx, req)
	if err != nil {
		t.Fatalf("re-INVITE: %v", err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("re-INVITE answered %d, want 200", res.StatusCode)
	}
	if err := call.uac.WriteAck(ctx, sip.NewRequest(sip.ACK, call.uac.InviteResponse.Contact().Address)); err != nil {
		t.Logf("ACK: %v", err)
	}
	moved.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	if _, _, err := moved.ReadFromUDP(buf); err != nil {
		t.Fatalf("no RTP at the re-INVITEd address: %v", err)
	}
	select {
	case <-bc.Done():
		t.Fatalf("callee ended the call on re-INVITE: %v", bc.Reason())
	default:
	}
	call.Hangup(ctx)
}

func TestMediaTimeout(t *testing.T) {
	answered := make(chan *Call, 1)
	b := startPhone(t, Config{MediaTimeout: 500 * time.Millisecond, OnIncoming: func(in *Incoming) {
		c, err := in.Answer(CallOptions{})
		if err == nil {
			answered <- c
		}
	}})
	a := startPhone(t, Config{MediaTimeout: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	call, err := a.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	call.getStream().Close() // the caller goes silent: no more RTP
	bc := <-answered
	select {
	case <-bc.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("callee did not time the silent call out")
	}
	if !errors.Is(bc.Reason(), ErrMediaTimeout) {
		t.Errorf("Reason() = %v, want ErrMediaTimeout", bc.Reason())
	}
	select {
	case <-call.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("caller did not get the BYE")
	}
}

// rawSIP sends msg over UDP to the phone and returns the first response line
// ("" if none within the timeout).
func rawSIP(t *testing.T, network string, port int, msg string, wait time.Duration) string {
	t.Helper()
	c, err := net.Dial(network, fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg = strings.ReplaceAll(msg, "LOCAL", local)
	msg = strings.ReplaceAll(msg, "\n", "\r\n")
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

func sipMsg(method, extra, body string) string {
	return method + ` sip:rtc@127.0.0.1 SIP/2.0
Via: SIP/2.0/UDP LOCAL;branch=z9hG4bK` + fmt.Sprint(time.Now().UnixNano()) + `
From: <sip:x@127.0.0.1>;tag=abc
To: <sip:rtc@127.0.0.1>` + extra + `
Call-ID: ` + fmt.Sprint(time.Now().UnixNano()) + `
CSeq: 1 ` + method + `
Max-Forwards: 70
Content-Length: ` + fmt.Sprint(len(strings.ReplaceAll(body, "\n", "\r\n"))) + `

` + body
}

func TestMalformedSIP(t *testing.T) {
	b := startPhone(t, Config{})
	goodSDP := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n"
	invite, err := os.ReadFile("testdata/baresip-invite.sip")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, msg, want string
	}{
		{"no contact", sipMsg("INVITE", "", goodSDP), "SIP/2.0 400"},
		{"garbage sdp", sipMsg("INVITE", "\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", "hello"), "SIP/2.0 400"},
		{"no sdp", sipMsg("INVITE", "\nContact: <sip:x@LOCAL>", ""), "SIP/2.0 488"},
		{"wrong content type", sipMsg("INVITE", "\nContact: <sip:x@LOCAL>\nContent-Type: text/plain", goodSDP), "SIP/2.0 415"},
		{"rejected stream", sipMsg("INVITE", "\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", strings.Replace(goodSDP, "4000", "0", 1)), "SIP/2.0 488"},
		{"srtp only", sipMsg("INVITE", "\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", strings.Replace(goodSDP, "RTP/AVP", "RTP/SAVP", 1)), "SIP/2.0 488"},
		{"reinvite unknown dialog", sipMsg("INVITE", ";tag=zzz\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", goodSDP), "SIP/2.0 481"},
		{"bye unknown dialog", sipMsg("BYE", ";tag=zzz", ""), "SIP/2.0 481"},
		{"bye without tags", sipMsg("BYE", "", ""), "SIP/2.0 481"},
		{"cancel unknown", sipMsg("CANCEL", "", ""), "SIP/2.0 481"},
		{"unknown method", sipMsg("FOO", "", ""), "SIP/2.0 405"},
		{"options", sipMsg("OPTIONS", "", ""), "SIP/2.0 200"},
		{"ack unknown", sipMsg("ACK", ";tag=zzz", ""), ""},
		{"baresip invite with sdp cut", strings.ReplaceAll(string(invite[:len(invite)-60]), "\r\n", "\n"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				msg := tc.msg
				if network == "tcp" {
					msg = strings.Replace(msg, "SIP/2.0/UDP", "SIP/2.0/TCP", 1)
				}
				wait := 5 * time.Second
				if tc.want == "" {
					wait = 300 * time.Millisecond // no answer expected; just survive
				}
				got := rawSIP(t, network, b.Port(network), msg, wait)
				if tc.want != "" && !strings.HasPrefix(got, tc.want) {
					t.Errorf("%s: response = %q, want %q...", network, got, tc.want)
				}
			}
		})
	}
	// The phone still works after all that.
	a := startPhone(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := a.Dial(ctx, fmt.Sprintf("127.0.0.1:%d", b.Port("udp")), CallOptions{})
	if err != nil {
		t.Fatalf("Dial after malformed input: %v", err)
	}
	c.Hangup(ctx)
}

package rtc

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzSIPHandlers sends arbitrary datagrams to a running phone: whatever
// sipgo's parser lets through reaches our handlers, which must not crash or
// wedge the phone (checked with an OPTIONS ping after every input).
func FuzzSIPHandlers(f *testing.F) {
	invite, err := os.ReadFile("testdata/baresip-invite.sip")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(invite)
	sdpBody := "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"
	for _, m := range []string{
		sipMsg("INVITE", "\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", sdpBody),
		sipMsg("INVITE", ";tag=1\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", sdpBody),
		sipMsg("INVITE", "\nContact: <sip:x@LOCAL>\nContent-Type: application/sdp", "v=0\nm=audio x"),
		sipMsg("BYE", ";tag=zzz", ""),
		sipMsg("ACK", ";tag=zzz", ""),
		sipMsg("CANCEL", "", ""),
	} {
		f.Add([]byte(strings.ReplaceAll(strings.ReplaceAll(m, "LOCAL", "127.0.0.1:9"), "\n", "\r\n")))
	}
	p, err := New(Config{ListenAddr: "127.0.0.1:0", Transports: []string{"udp"}, RingTimeout: 50 * time.Millisecond, MediaTimeout: -1,
		OnIncoming: func(in *Incoming) {}})
	if err != nil {
		f.Fatal(err)
	}
	if err := p.Start(f.Context()); err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", p.Port("udp")))
	if err != nil {
		f.Fatal(err)
	}
	defer conn.Close()
	ping := 0
	buf := make([]byte, 4096)
	f.Fuzz(func(t *testing.T, b []byte) {
		conn.Write(b)
		ping++
		opt := strings.ReplaceAll(strings.ReplaceAll(sipMsg("OPTIONS", "", ""), "LOCAL", conn.LocalAddr().String()), "\n", "\r\n")
		opt = strings.Replace(opt, "Call-ID: ", fmt.Sprintf("Call-ID: ping%d-", ping), 1)
		conn.Write([]byte(opt))
		deadline := time.Now().Add(5 * time.Second)
		for {
			conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("phone did not answer OPTIONS after input %q: %v", b, err)
			}
			if strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") && strings.Contains(string(buf[:n]), fmt.Sprintf("ping%d-", ping)) {
				return
			}
		}
	})
}

package rtc

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/oemkit/messenger/feature/rtc/sdp"
)

// TestLegs: two legs negotiate by offer and answer (as the bodies of a
// proxied INVITE and its 200) and each hears the other's tone; a leg that
// receives nothing ends with ErrMediaTimeout.
func TestLegs(t *testing.T) {
	cfg := LegConfig{BindIP: net.IPv4(127, 0, 0, 1), AdvertiseIP: "127.0.0.1"}
	a, err := NewLeg(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfgB := cfg
	cfgB.Codecs = []string{"PCMA", "PCMU"}
	b, err := NewLeg(cfgB)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := b.Answer(a.Offer())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Accept(answer); err != nil {
		t.Fatal(err)
	}
	if a.Codec() != "PCMU" || b.Codec() != "PCMU" {
		t.Errorf("codecs %s / %s, want PCMU (the offerer's preference)", a.Codec(), b.Codec())
	}
	var heardA, heardB audio.Buffer
	if err := a.Start(CallOptions{Source: &audio.Tone{Freq: 1000}, Sink: &heardA}); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(CallOptions{Source: &audio.Tone{Freq: 1600}, Sink: &heardB}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	a.Close(ErrLocalHangup)
	b.Close(ErrRemoteHangup)
	probes := []float64{1000, 1600, 440}
	if s := heardB.Samples(); len(s) < audio.SampleRate/2 || !audio.DominantTone(s, 1000, probes, 10) {
		t.Errorf("b heard %d samples without the 1000 Hz tone", len(s))
	}
	if s := heardA.Samples(); len(s) < audio.SampleRate/2 || !audio.DominantTone(s, 1600, probes, 10) {
		t.Errorf("a heard %d samples without the 1600 Hz tone", len(s))
	}
	if !errors.Is(a.Reason(), ErrLocalHangup) {
		t.Errorf("a.Reason() = %v", a.Reason())
	}

	// No codec in common; an offer that is not SDP.
	c, err := NewLeg(LegConfig{AdvertiseIP: "127.0.0.1", Codecs: []string{"PCMA"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(nil)
	onlyU := sdp.NewAudio(1, 1, "127.0.0.1", 4000, []sdp.Codec{{Name: "PCMU", PT: 0, Rate: 8000}}, 20).Marshal()
	if _, err := c.Answer(onlyU); !errors.Is(err, sdp.ErrNoCommonCodec) {
		t.Errorf("Answer(PCMU only) to a PCMA leg = %v, want ErrNoCommonCodec", err)
	}
	if _, err := c.Answer([]byte("not sdp at all\x00")); err == nil {
		t.Error("Answer(garbage) succeeded")
	}

	// Media timeout: d answers an offer nobody sends to.
	cfgD := cfg
	cfgD.MediaTimeout = 300 * time.Millisecond
	d, err := NewLeg(cfgD)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Answer(onlyU); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(CallOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.Done():
		if !errors.Is(d.Reason(), ErrMediaTimeout) {
			t.Errorf("d ended with %v, want ErrMediaTimeout", d.Reason())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a leg without media did not time out")
	}
}

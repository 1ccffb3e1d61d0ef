package rtc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/oemkit/messenger/feature/rtc"
	"github.com/oemkit/messenger/feature/rtc/audio"
)

// Two phones on loopback: one answers, the other dials, both send a tone
// for a second, then the caller hangs up.
func Example() {
	answered := make(chan *rtc.Call, 1)
	bob, err := rtc.New(rtc.Config{User: "bob", ListenAddr: "127.0.0.1:0",
		OnIncoming: func(in *rtc.Incoming) {
			c, err := in.Answer(rtc.CallOptions{Source: &audio.Tone{Freq: 1000}})
			if err == nil {
				answered <- c
			}
		}})
	if err != nil {
		panic(err)
	}
	if err := bob.Start(context.Background()); err != nil {
		panic(err)
	}
	defer bob.Close()

	alice, err := rtc.New(rtc.Config{User: "alice", ListenAddr: "127.0.0.1:0"})
	if err != nil {
		panic(err)
	}
	if err := alice.Start(context.Background()); err != nil {
		panic(err)
	}
	defer alice.Close()

	heard := &audio.Buffer{}
	ctx := context.Background()
	call, err := alice.Dial(ctx, fmt.Sprintf("sip:bob@127.0.0.1:%d", bob.Port("udp")),
		rtc.CallOptions{Source: &audio.Tone{Freq: 440}, Sink: heard})
	if err != nil {
		panic(err)
	}
	fmt.Println("codec:", call.Codec())
	time.Sleep(time.Second)
	call.Hangup(ctx)
	<-(<-answered).Done()
	fmt.Println("heard 1000 Hz:", audio.DominantTone(heard.Samples(), 1000, []float64{440, 2000}, 10))
	// Output:
	// codec: PCMU
	// heard 1000 Hz: true
}

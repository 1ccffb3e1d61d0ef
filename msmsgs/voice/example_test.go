package voice_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/oemkit/messenger/msmsgs/voice"
)

// link is a conversation between two managers in one process: what one
// sends, the other gets through Deliver. The msmsgs daemon uses
// voice.ClientTransport over a real switchboard instead.
type link struct {
	me   string
	peer **voice.Manager
	done chan struct{}
}

func (l link) Open(context.Context, string) (string, error) { return "c1", nil }
func (l link) Send(_ context.Context, conv string, body []byte) error {
	(*l.peer).Deliver(conv, l.me, body) // Deliver never blocks
	return nil
}
func (l link) LocalIP(string) (netip.Addr, error) { return netip.MustParseAddr("127.0.0.1"), nil }
func (l link) Done(string) <-chan struct{}        { return l.done }

// Alice calls Bob, Bob answers on call-offer, and both see call-connected.
func Example() {
	var alice, bob *voice.Manager
	done := make(chan struct{})
	connected := make(chan string, 2)
	onEvent := func(who string) func(voice.Event) {
		return func(e voice.Event) {
			switch e.Type {
			case voice.EventOffer:
				bob.Answer(e.Call)
			case voice.EventConnected:
				connected <- who + " connected, " + e.Codec
			}
		}
	}
	alice, _ = voice.New(voice.Config{SIPListen: "127.0.0.1:0", OnEvent: onEvent("alice")}, link{"alice@example.com", &bob, done})
	bob, _ = voice.New(voice.Config{SIPListen: "127.0.0.1:0", OnEvent: onEvent("bob")}, link{"bob@example.com", &alice, done})
	alice.Start(context.Background())
	bob.Start(context.Background())
	defer alice.Close()
	defer bob.Close()

	id, err := alice.Call(context.Background(), "bob@example.com")
	if err != nil {
		panic(err)
	}
	got := map[string]bool{}
	for range 2 {
		select {
		case s := <-connected:
			got[s] = true
		case <-time.After(10 * time.Second):
			panic("no call")
		}
	}
	fmt.Println(got["alice connected, PCMU"], got["bob connected, PCMU"])
	alice.Hangup(id)
	// Output: true true
}

package sipua_test

import (
	"context"
	"fmt"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
)

// A device signs in with the realm, KDC and server from its settings,
// watches a contact and sends a message; events arrive on a channel.
func Example() {
	ctx := context.Background()
	ua, err := sipua.Dial(ctx, sipua.Config{
		URI:    "sip:alice@lab.example",
		Server: "sip.lab.example:5060",
		Kerberos: kerberos.Config{
			Realm: "LAB.EXAMPLE", KDCs: []string{"kdc.lab.example:88"},
			Password: "secret", // or KeytabFile
		},
	})
	if err != nil {
		fmt.Println(err) // says what to fix: password, KDC address, clock, ...
		return
	}
	defer ua.Close()
	_ = ua.SetPresence(ctx, "online")
	_ = ua.Subscribe(ctx, "sip:bob@lab.example")
	_ = ua.SendMessage(ctx, "sip:bob@lab.example", "hello")
	for e := range ua.Events() {
		fmt.Println(e.Type, e.From, e.Status, e.Text)
	}
}

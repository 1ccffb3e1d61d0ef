package sipaccount_test

import (
	"context"
	"fmt"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/kerberos/sipua"
	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/sipaccount"
)

// A daemon runs the SIP account beside its .NET Messenger client: the
// account publishes on the daemon's event stream and answers the ctl
// commands that name a sip: contact.
func Example() {
	ctx := context.Background()
	a, err := sipaccount.New(sipaccount.Config{
		UA: sipua.Config{URI: "sip:alice@lab.example", Server: "sip.lab.example:5060",
			Kerberos: kerberos.Config{Realm: "LAB.EXAMPLE", KDCs: []string{"kdc.lab.example:88"}, Password: "secret"}},
		Krb5Conf: "/var/lib/msmsgs/krb5.conf",
		Publish:  func(e client.Event) client.Event { fmt.Println(e.Type, e.Account, e.Status, e.Text, e.Error); return e },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go a.Run(ctx) // signs in, and again after a lost connection
	if err := a.WaitSignedIn(ctx); err != nil {
		fmt.Println(err) // says what to fix: password, KDC address, clock, ...
		return
	}
	args := []string{"send", "sip:bob@lab.example", "hello"}
	if sipaccount.Routes(args, false) {
		_, err = a.Execute(ctx, args, msgslang.Load("", "", msgslang.Options{}))
		fmt.Println(err)
	}
}

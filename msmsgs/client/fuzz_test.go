package client

import (
	"net"
	"strings"
	"testing"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// FuzzHandle feeds arbitrary server lines to the NS and SB command
// handlers: malformed input may end the connection but must never panic.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"LST bob@example.com Bob 11 0", "LST x", "LSG 0 Other%20Contacts 0", "BLP", "BLP AL", "GTC 5 12 N",
		"ILN 7 NLN bob@example.com Bob", "NLN BSY bob@example.com Bob%20B", "FLN bob@example.com",
		"ADD 0 RL 5 dave@example.com Dave", "REM 0 RL 6 dave@example.com", "ADD 5 FL", "SYN 3 42 1 1", "SYN 3 x y z",
		"CHL 0 15570131571988941333", "CHL 0", "OUT SSD", "REA 9 12 alice@example.com Alice%zz", "911 4", "CHG 3 BSY 0",
		"JOI bob@example.com Bob", "IRO 1 1 2 carol@example.com Carol", "BYE bob@example.com", "ACK 3", "NAK 4",
		"RNG 1 127.0.0.1:1 CKI", "XFR 2 SB",
	} {
		f.Add(s, "")
	}
	f.Add("MSG bob@example.com Bob", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: INVITE\r\n")
	f.Add("MSG Hotmail Hotmail", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nClientIP: 203.0.113.9\r\nClientPort: 4242\r\n\r\n")
	f.Add("MSG bob@example.com Bob", "Content-Type: text/x-msmsgscontrol\r\nTypingUser: bob@example.com\r\n\r\n")
	f.Fuzz(func(t *testing.T, line, payload string) {
		cmd, err := msnp.ParseLine(line)
		if err != nil {
			return
		}
		if msnp.IsPayloadCommand(cmd.Name) {
			cmd.Payload = []byte(payload)
		}
		if cmd.Name == "RNG" {
			return // dials the address in the line
		}
		cfg := testConfig("127.0.0.1:1")
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		go func() { // swallow what the handlers write
			buf := make([]byte, 4096)
			for {
				if _, err := b.Read(buf); err != nil {
					return
				}
			}
		}()
		n := &nsConn{conn: a, w: msnp.NewWriter(a), done: make(chan struct{}), pending: map[int]chan msnp.Command{},
			qng: make(chan struct{}, 1), lst: make(chan struct{}), timeout: cfg.CallTimeout}
		_ = c.handleNS(n, cmd)
		cv := &Conversation{c: c, id: "c1", conn: a, w: msnp.NewWriter(a), done: make(chan struct{}),
			pending: map[int]chan msnp.Command{}, members: map[string]string{"bob@example.com": "Bob"}, changed: make(chan struct{})}
		_ = c.handleSB(cv, cmd)
		for _, ct := range c.Contacts() {
			if strings.ContainsAny(ct.Account, " \r\n") {
				t.Errorf("contact %q contains white space", ct.Account)
			}
		}
	})
}

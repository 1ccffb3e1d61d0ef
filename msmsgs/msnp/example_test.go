package msnp_test

import (
	"fmt"
	"strings"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

func Example() {
	r := msnp.NewReader(strings.NewReader("CHL 0 15570131571988941333\r\nMSG a@b.c Alice 64\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\nX-A: b\r\n\r\nhi there!"))
	r.MaxPayload = msnp.MaxServerPayload
	for {
		c, err := r.ReadCommand()
		if err != nil {
			break
		}
		switch c.Name {
		case "CHL":
			q := msnp.QRY(5, c.Arg(0))
			b, _ := msnp.AppendCommand(nil, q)
			fmt.Printf("%q\n", b)
		case "MSG":
			m, err := msnp.ParseMessage(c.Payload)
			if err != nil {
				break
			}
			name, _ := msnp.DecodeName(c.Arg(1))
			fmt.Printf("%s (%s) says %q\n", name, m.ContentType(), m.Body)
		}
	}
	// Output:
	// "QRY 5 msmsgs@msnmsgr.com 32\r\n8f2f5a91b72102cd28355e9fc9000d6e"
	// Alice (text/plain) says "hi there!"
}

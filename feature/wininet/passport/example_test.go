package passport_test

import (
	"context"
	"fmt"

	"github.com/oemkit/messenger/feature/wininet/passport"
)

// Sign in with the challenge from "USR 3 TWN S <challenge>" and send the
// ticket back with "USR 4 TWN S <ticket>".
func Example() {
	roots, err := passport.CertPool(true, "/var/lib/messengerd/ca.pem") // system roots + a lab CA
	if err != nil {
		fmt.Println(err)
		return
	}
	c := &passport.Client{
		HTTP:  passport.NewHTTPClient(roots, nil),
		Nexus: "https://127.0.0.1:8443/rdr/pprdr.asp",
	}
	challenge := "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619"
	ticket, err := c.Login(context.Background(), "alice@example.com", "password", challenge)
	if err != nil {
		fmt.Println(err) // errors.Is(err, passport.ErrWrongPassword), ErrUntrusted, ...
		return
	}
	fmt.Println("USR 4 TWN S " + ticket)
}

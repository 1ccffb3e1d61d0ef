package wininet_test

import (
	"context"
	"fmt"

	"github.com/oemkit/messenger/feature/certs"
	"github.com/oemkit/messenger/feature/wininet"
)

// How msmsgs connects: one Config from Options > Connection gives the
// Passport HTTP client and the NS/SB dial function. Behind an HTTP proxy
// that refuses CONNECT, NS and SB sessions go through the HTTP gateway.
func Example() {
	store, err := certs.Load(certs.Config{RootDir: certs.DefaultRootDir, ExtraCAFile: "/etc/msmsgs/lab-ca.pem"})
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := wininet.Config{Proxy: "http://user:pass@proxy.lan:3128", Certs: store, UserAgent: "MSMSGS"}
	httpClient, err := wininet.NewClient(cfg) // Passport login
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = httpClient
	msn, err := wininet.NewMSNDialer(cfg, wininet.MSNOptions{GatewayURL: "http://messenger.lab/gateway/gateway.dll"})
	if err != nil {
		fmt.Println(err)
		return
	}
	conn, err := msn.DialContext(context.Background(), "tcp", "messenger.lab:1863")
	if err != nil {
		fmt.Println(err) // names the hop: dns, proxy, connect
		return
	}
	defer conn.Close()
	fmt.Fprint(conn, "VER 1 MSNP8 CVR0\r\n")
}

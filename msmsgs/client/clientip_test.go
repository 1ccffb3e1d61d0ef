package client

import (
	"testing"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

func TestProfileClientIP(t *testing.T) {
	tests := []struct {
		name, payload, want string
	}{
		{"ipv4", "MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsprofile; charset=UTF-8\r\nClientIP: 203.0.113.9\r\nClientPort: 4242\r\n\r\n", "203.0.113.9"},
		{"mapped", "Content-Type: text/x-msmsgsprofile\r\nClientIP: ::ffff:198.51.100.2\r\n\r\n", "198.51.100.2"},
		{"ipv6", "Content-Type: text/x-msmsgsprofile\r\nClientIP: 2001:db8::1\r\n\r\n", "2001:db8::1"},
		{"not an address", "Content-Type: text/x-msmsgsprofile\r\nClientIP: evil.example\r\n\r\n", ""},
		{"other type", "Content-Type: text/x-msmsgsinitialemailnotification\r\nClientIP: 203.0.113.9\r\n\r\n", ""},
		{"malformed", "garbage", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(testConfig("127.0.0.1:1"))
			if err != nil {
				t.Fatal(err)
			}
			c.onNSMessage(msnp.Command{Name: "MSG", Args: []string{"Hotmail", "Hotmail"}, Payload: []byte(tt.payload)})
			if got := c.ClientIP(); got != tt.want {
				t.Errorf("ClientIP() after profile %q = %q, want %q", tt.payload, got, tt.want)
			}
		})
	}
}

package network

import (
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

func TestRenewAt(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []dhcpv4.Modifier
		t1, lease time.Duration
	}{
		{"lease only: T1 is half", []dhcpv4.Modifier{dhcpv4.WithLeaseTime(86400)}, 12 * time.Hour, 24 * time.Hour},
		{"server T1", []dhcpv4.Modifier{dhcpv4.WithLeaseTime(3600), dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionRenewTimeValue, dhcpv4.Duration(600*time.Second).ToBytes()))}, 10 * time.Minute, time.Hour},
		{"T1 past the lease is ignored", []dhcpv4.Modifier{dhcpv4.WithLeaseTime(3600), dhcpv4.WithOption(dhcpv4.OptGeneric(dhcpv4.OptionRenewTimeValue, dhcpv4.Duration(7200*time.Second).ToBytes()))}, 30 * time.Minute, time.Hour},
		{"infinite", []dhcpv4.Modifier{dhcpv4.WithLeaseTime(0xffffffff)}, 0, 0},
		{"no lease time", nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := dhcpv4.New(tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			t1, lt := renewAt(&nclient4.Lease{ACK: m})
			if t1 != tc.t1 || lt != tc.lease {
				t.Errorf("renewAt = %v, %v, want %v, %v", t1, lt, tc.t1, tc.lease)
			}
		})
	}
}

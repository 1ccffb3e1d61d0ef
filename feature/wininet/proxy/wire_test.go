package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// recordDialer records what the client sends and plays a fixed reply.
type recordDialer struct {
	reply []byte
	got   chan []byte
}

func (r recordDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, s := net.Pipe()
	go func() {
		defer s.Close()
		var buf bytes.Buffer
		s.SetDeadline(time.Now().Add(5 * time.Second))
		tmp := make([]byte, 512)
		n, _ := s.Read(tmp) // the request is one write
		buf.Write(tmp[:n])
		s.Write(r.reply)
		r.got <- buf.Bytes()
		io.Copy(io.Discard, s)
	}()
	return c, nil
}

// TestSOCKS4Wire checks the request bytes against the SOCKS4 and SOCKS4A
// documents: VN=4 CD=1 DSTPORT DSTIP USERID NUL [HOSTNAME NUL].
func TestSOCKS4Wire(t *testing.T) {
	tests := []struct {
		kind Kind
		addr string
		want []byte
	}{
		{SOCKS4, "10.0.2.2:1863", []byte{4, 1, 0x07, 0x47, 10, 0, 2, 2, 'm', 'e', 0}},
		{SOCKS4A, "10.0.2.2:1863", []byte{4, 1, 0x07, 0x47, 10, 0, 2, 2, 'm', 'e', 0}},
		{SOCKS4A, "ns.lab:1863", []byte{4, 1, 0x07, 0x47, 0, 0, 0, 1, 'm', 'e', 0, 'n', 's', '.', 'l', 'a', 'b', 0}},
		{SOCKS4, "ns.lab:1863", []byte{4, 1, 0x07, 0x47, 192, 0, 2, 7, 'm', 'e', 0}},
	}
	for _, tc := range tests {
		rd := recordDialer{reply: []byte{0, 90, 0, 0, 0, 0, 0, 0}, got: make(chan []byte, 1)}
		d := &Dialer{Kind: tc.kind, Addr: "proxy:1080", User: "me", Forward: rd,
			LookupIP: func(context.Context, string, string) ([]net.IP, error) { return []net.IP{{192, 0, 2, 7}}, nil }}
		c, err := d.Dial("tcp", tc.addr)
		if err != nil {
			t.Fatalf("%s Dial(%s) = %v", tc.kind, tc.addr, err)
		}
		c.Close()
		if diff := cmp.Diff(tc.want, <-rd.got); diff != "" {
			t.Errorf("%s request for %s mismatch (-want +got):\n%s", tc.kind, tc.addr, diff)
		}
	}
}

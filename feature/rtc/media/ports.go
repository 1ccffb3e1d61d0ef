package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
)

// PortRange is an inclusive range of UDP ports for media. RTP takes an even
// port and RTCP the next odd one.
type PortRange struct {
	Min, Max int
}

// DefaultPorts is the range used when none is configured.
var DefaultPorts = PortRange{Min: 16384, Max: 32767}

// ErrNoPorts is returned when every port pair in the range is taken.
var ErrNoPorts = errors.New("media: no free RTP/RTCP port pair in range")

// Validate checks the range.
func (r PortRange) Validate() error {
	if r.Min < 1024 || r.Max > 65535 || r.Min > r.Max-1 {
		return fmt.Errorf("media: port range %d-%d: want 1024 <= min < max <= 65535 with room for a pair", r.Min, r.Max)
	}
	return nil
}

// Listen binds an RTP/RTCP socket pair on ip at an even port of r, starting
// at a random pair so concurrent calls rarely collide.
func Listen(ip net.IP, r PortRange) (rtp, rtcp *net.UDPConn, err error) {
	if err := r.Validate(); err != nil {
		return nil, nil, err
	}
	first := r.Min + r.Min%2
	pairs := (r.Max - first + 1) / 2
	if pairs <= 0 {
		return nil, nil, fmt.Errorf("media: port range %d-%d holds no even/odd pair: %w", r.Min, r.Max, ErrNoPorts)
	}
	start := rand.IntN(pairs)
	for i := range pairs {
		port := first + 2*((start+i)%pairs)
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err != nil {
			continue
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port + 1})
		if err != nil {
			a.Close()
			continue
		}
		return a, b, nil
	}
	return nil, nil, fmt.Errorf("media: ports %d-%d on %s: %w; widen the media port range or end other calls", r.Min, r.Max, ip, ErrNoPorts)
}

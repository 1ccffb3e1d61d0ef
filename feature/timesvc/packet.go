package timesvc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Packet sizes (RFC 5905 section 7.3). A reply is the 48-byte header,
// optionally followed by extension fields and a MAC; anything longer than
// MaxReply is refused rather than read.
const (
	HeaderLen = 48
	MaxReply  = 1024
)

// Modes (RFC 5905 figure 10).
const (
	modeClient = 3
	modeServer = 4
)

// Version is the NTP version the client sends (RFC 5905).
const Version = 4

// MaxStratum is the highest stratum a usable server may have; 16 means
// unsynchronised (RFC 5905 section 7.3).
const MaxStratum = 15

// MaxRootDistance is the largest root distance (root delay / 2 + root
// dispersion) of a usable server: RFC 5905's MAXDIST.
const MaxRootDistance = 1500 * time.Millisecond

// Errors a reply can be refused with. ParseReply's error wraps one of them,
// so callers branch with errors.Is.
var (
	// ErrMalformed: the datagram is not an NTP server reply.
	ErrMalformed = errors.New("not an NTP server reply")
	// ErrUnsynchronized: the server says its own clock is not set (leap
	// indicator 3, stratum 16, zero timestamps or too far from its source).
	ErrUnsynchronized = errors.New("the server's clock is not synchronised")
	// ErrOrigin: the reply does not answer our request (its origin
	// timestamp is not the one we sent): a stale, duplicated or spoofed
	// packet. The client ignores it and keeps waiting.
	ErrOrigin = errors.New("reply does not match the request")
)

// KissError is a kiss-o'-death reply (stratum 0, RFC 5905 section 7.4):
// the server tells the client to stop (DENY, RSTR) or slow down (RATE).
type KissError struct {
	Code string // four ASCII characters, e.g. "RATE"
}

func (e *KissError) Error() string {
	switch e.Code {
	case "DENY", "RSTR":
		return fmt.Sprintf("kiss-o'-death %s: the server refuses this client; ask its administrator or set another timesvc.server", e.Code)
	case "RATE":
		return "kiss-o'-death RATE: the server asks this client to poll less often"
	}
	return fmt.Sprintf("kiss-o'-death %q from the server", e.Code)
}

// Stop reports whether the code tells the client to stop using the server.
func (e *KissError) Stop() bool { return e.Code == "DENY" || e.Code == "RSTR" }

// Timestamp is a 64-bit NTP timestamp: seconds since 1900 (in the era the
// top bit selects, RFC 4330 section 3) and a 32-bit binary fraction.
type Timestamp uint64

// ntpEpochOffset is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpEpochOffset = 2208988800

// Time converts t to a time.Time. Following RFC 4330 section 3, a
// timestamp with its top bit set is in 1968-2036 (era 0) and one without it
// in 2036-2104 (era 1), so the client works across the 2036 rollover
// without trusting its own (possibly unset) clock to pick the era.
func (t Timestamp) Time() time.Time {
	sec := int64(t >> 32)
	if t>>63 == 0 {
		sec += 1 << 32
	}
	frac := int64(t & 0xffffffff)
	nsec := (frac*1e9 + 1<<31) >> 32
	return time.Unix(sec-ntpEpochOffset, 0).Add(time.Duration(nsec))
}

// ToTimestamp converts a time in 1968-2104 to an NTP timestamp.
func ToTimestamp(t time.Time) Timestamp {
	sec := t.Unix() + ntpEpochOffset
	nsec := int64(t.Nanosecond())
	frac := (uint64(nsec) << 32) / 1e9
	return Timestamp(uint64(sec)<<32 | frac)
}

// Reply is a parsed and checked server reply.
type Reply struct {
	Leap      uint8
	Version   uint8
	Stratum   uint8
	Poll      int8
	Precision int8
	// RootDelay and RootDispersion are the server's distance to its
	// reference clock.
	RootDelay, RootDispersion time.Duration
	// RefID names the server's source: four ASCII characters for stratum 1
	// (e.g. "GPS"), an IPv4 address (or hash) above.
	RefID [4]byte
	// Reference, Origin, Receive and Transmit are the four timestamps: when
	// the server's clock was last set, our transmit timestamp echoed, when
	// the request arrived (T2), when the reply left (T3).
	Reference, Origin, Receive, Transmit Timestamp
}

// shortDuration converts an NTP short format (16.16 seconds) value.
func shortDuration(v uint32) time.Duration {
	return time.Duration((int64(v)*1e9 + 1<<15) >> 16)
}

// NewRequest returns a client-mode request whose transmit timestamp is
// nonce. The nonce is a random value rather than the client's clock: the
// server copies it into the reply's origin field, where it proves the reply
// answers this request (a blind spoofer must guess 64 bits), and the
// client's idea of the time is not sent on the network.
func NewRequest(nonce Timestamp) []byte {
	b := make([]byte, HeaderLen)
	b[0] = 0<<6 | Version<<3 | modeClient
	binary.BigEndian.PutUint64(b[40:], uint64(nonce))
	return b
}

// ParseReply parses one datagram as the reply to a request sent with the
// transmit timestamp nonce, and checks it as RFC 4330 section 5 and RFC 5905
// section 8 say a client must: length, version, mode, leap indicator,
// stratum (kiss-o'-death codes come back as *KissError), the origin
// timestamp, non-zero receive and transmit timestamps, and root distance.
func ParseReply(b []byte, nonce Timestamp) (*Reply, error) {
	if len(b) < HeaderLen {
		return nil, fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(b), HeaderLen)
	}
	if len(b) > MaxReply {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformed, len(b), MaxReply)
	}
	if (len(b)-HeaderLen)%4 != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of 32-bit words", ErrMalformed, len(b))
	}
	r := &Reply{
		Leap:           b[0] >> 6,
		Version:        (b[0] >> 3) & 7,
		Stratum:        b[1],
		Poll:           int8(b[2]),
		Precision:      int8(b[3]),
		RootDelay:      shortDuration(binary.BigEndian.Uint32(b[4:])),
		RootDispersion: shortDuration(binary.BigEndian.Uint32(b[8:])),
		Reference:      Timestamp(binary.BigEndian.Uint64(b[16:])),
		Origin:         Timestamp(binary.BigEndian.Uint64(b[24:])),
		Receive:        Timestamp(binary.BigEndian.Uint64(b[32:])),
		Transmit:       Timestamp(binary.BigEndian.Uint64(b[40:])),
	}
	copy(r.RefID[:], b[12:16])
	mode := b[0] & 7
	if mode != modeServer {
		return nil, fmt.Errorf("%w: mode %d, want %d (server)", ErrMalformed, mode, modeServer)
	}
	if r.Version < 3 || r.Version > Version {
		return nil, fmt.Errorf("%w: NTP version %d, want 3 or 4", ErrMalformed, r.Version)
	}
	// The origin check comes before anything the reply claims about the
	// server, so an unsolicited packet cannot make the client back off.
	if r.Origin != nonce {
		return nil, fmt.Errorf("%w: origin timestamp %016x, sent %016x", ErrOrigin, uint64(r.Origin), uint64(nonce))
	}
	if r.Stratum == 0 {
		code := r.RefID[:]
		for _, c := range code {
			if c < 0x20 || c > 0x7e {
				return nil, &KissError{Code: fmt.Sprintf("%x", code)}
			}
		}
		return nil, &KissError{Code: string(code)}
	}
	if r.Leap == 3 {
		return nil, fmt.Errorf("%w: leap indicator 3 (alarm)", ErrUnsynchronized)
	}
	if r.Stratum > MaxStratum {
		return nil, fmt.Errorf("%w: stratum %d", ErrUnsynchronized, r.Stratum)
	}
	if r.Transmit == 0 || r.Receive == 0 {
		return nil, fmt.Errorf("%w: zero receive or transmit timestamp", ErrUnsynchronized)
	}
	if r.Reference == 0 {
		return nil, fmt.Errorf("%w: zero reference timestamp", ErrUnsynchronized)
	}
	if d := r.RootDelay/2 + r.RootDispersion; d > MaxRootDistance {
		return nil, fmt.Errorf("%w: root distance %v exceeds %v", ErrUnsynchronized, d, MaxRootDistance)
	}
	if r.Transmit.Time().Before(r.Receive.Time()) {
		return nil, fmt.Errorf("%w: transmit timestamp before receive timestamp", ErrMalformed)
	}
	return r, nil
}

// Sample is one completed exchange with a server.
type Sample struct {
	// Offset is how far the local clock is behind the server's: add it to
	// the local time to get the server's ((T2-T1)+(T3-T4))/2.
	Offset time.Duration
	// Delay is the round-trip time minus the server's processing time,
	// (T4-T1)-(T3-T2).
	Delay time.Duration
	// Reply is the server's reply.
	Reply *Reply
	// Local is the local clock at T4.
	Local time.Time
}

// NewSample computes offset and delay from a reply, with t1 and t4 the
// local clock when the request left and the reply arrived.
func NewSample(r *Reply, t1, t4 time.Time) (Sample, error) {
	t2, t3 := r.Receive.Time(), r.Transmit.Time()
	delay := t4.Sub(t1) - t3.Sub(t2)
	if delay < 0 {
		// A server's processing time larger than the round trip: its
		// timestamps are inconsistent (RFC 5905 clamps; a client this
		// simple refuses instead).
		return Sample{}, fmt.Errorf("%w: server processing time %v exceeds the round trip %v", ErrMalformed, t3.Sub(t2), t4.Sub(t1))
	}
	// Halve each difference before adding so offsets of decades do not
	// overflow time.Duration (±292 years).
	off := t2.Sub(t1)/2 + t3.Sub(t4)/2
	return Sample{Offset: off, Delay: delay, Reply: r, Local: t4}, nil
}

// Package media carries a call's voice: RTP (RFC 3550) with G.711 µ-law and
// A-law payloads in 20 ms packets, RTCP sender/receiver reports for loss,
// jitter and round-trip time, an adaptive jitter buffer with loss
// concealment, and RFC 4733 telephone events.
package media

import (
	"fmt"
	"strings"

	"github.com/zaf/g711"
)

// Codec converts between 8 kHz linear samples and an RTP payload.
type Codec struct {
	Name string
	PT   uint8
	law  byte // 'u' or 'a'
}

// NewCodec returns the G.711 codec for name (PCMU or PCMA) with payload type pt.
func NewCodec(name string, pt uint8) (Codec, error) {
	switch strings.ToUpper(name) {
	case "PCMU":
		return Codec{Name: "PCMU", PT: pt, law: 'u'}, nil
	case "PCMA":
		return Codec{Name: "PCMA", PT: pt, law: 'a'}, nil
	}
	return Codec{}, fmt.Errorf("media: codec %q is not supported; use PCMU or PCMA", name)
}

// Encode appends the payload for samples to dst.
func (c Codec) Encode(dst []byte, samples []int16) []byte {
	for _, s := range samples {
		if c.law == 'a' {
			dst = append(dst, g711.EncodeAlawFrame(s))
		} else {
			dst = append(dst, g711.EncodeUlawFrame(s))
		}
	}
	return dst
}

// Decode appends the samples of payload to dst.
func (c Codec) Decode(dst []int16, payload []byte) []int16 {
	for _, b := range payload {
		if c.law == 'a' {
			dst = append(dst, g711.DecodeAlawFrame(b))
		} else {
			dst = append(dst, g711.DecodeUlawFrame(b))
		}
	}
	return dst
}

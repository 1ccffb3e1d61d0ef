package media

import (
	"fmt"
	"time"
)

// Stats is a snapshot of one call's media statistics.
type Stats struct {
	Codec       string
	PacketsSent uint64
	BytesSent   uint64
	LateSends   uint64 // 20 ms send ticks that fired more than 10 ms late

	PacketsReceived uint64 // RTP packets received (including duplicates)
	BytesReceived   uint64
	Expected        uint64 // packets expected from the sequence numbers
	Lost            int64  // Expected minus unique packets received (RFC 3550 A.3)
	Jitter          time.Duration

	// Remote view of our stream, from RTCP reports the peer sent.
	RemoteLost     int64
	RemoteJitter   time.Duration
	RTT            time.Duration // round-trip time from RTCP LSR/DLSR; 0 until measured
	RTCPSent       uint64
	RTCPReceived   uint64
	DTMFReceived   string // telephone-event digits received
	Buffer         JitterStats
	MalformedInput uint64 // packets dropped as not RTP/RTCP

	// Capture is capture to wire: from the capture of a frame's first
	// sample to its RTP packet being sent; measured when the source is a
	// CaptureTimer.
	Capture LatencyStats
	// Playout is wire to playback: from a packet's arrival to its first
	// sample being heard (the jitter buffer's wait and the sink's queue);
	// measured when the sink is a PlayoutTimer.
	Playout LatencyStats
}

// LatencyStats aggregates one latency over the call's frames.
type LatencyStats struct {
	Mean, Max time.Duration
	Frames    uint64 // frames measured; 0 means not measured
}

// LossFraction returns Lost/Expected.
func (s Stats) LossFraction() float64 {
	if s.Expected == 0 {
		return 0
	}
	return float64(s.Lost) / float64(s.Expected)
}

// String formats the stats on one line for people.
func (s Stats) String() string {
	return fmt.Sprintf("codec=%s sent=%d recv=%d expected=%d lost=%d (%.1f%%) jitter=%s rtt=%s played=%d concealed=%d dup=%d late=%d underruns=%d dropped=%d buffer=%d/%d remote_lost=%d late_sends=%d",
		s.Codec, s.PacketsSent, s.PacketsReceived, s.Expected, s.Lost, 100*s.LossFraction(),
		s.Jitter.Round(10*time.Microsecond), s.RTT.Round(10*time.Microsecond), s.Buffer.Played, s.Buffer.Concealed,
		s.Buffer.Duplicates, s.Buffer.Late, s.Buffer.Underruns, s.Buffer.Dropped, s.Buffer.Depth, s.Buffer.Target, s.RemoteLost, s.LateSends)
}

// recvStats implements RFC 3550 appendix A.1/A.3/A.8 sequence and jitter
// bookkeeping for one source.
type recvStats struct {
	init        bool
	ssrc        uint32
	baseSeq     uint32
	maxSeq      uint16
	cycles      uint32
	received    uint64 // unique-ish: counts packets that advanced or filled
	expectedPri uint64
	receivedPri uint64
	transit     int64
	jitter      float64 // timestamp units
	probation   int
}

func (r *recvStats) reset(ssrc uint32, seq uint16) {
	*r = recvStats{init: true, ssrc: ssrc, baseSeq: uint32(seq), maxSeq: seq}
}

// update records a packet; arrival is in RTP timestamp units (8 kHz).
func (r *recvStats) update(ssrc uint32, seq uint16, ts uint32, arrival int64, dup bool) {
	r.sequence(ssrc, seq, dup)
	transit := arrival - int64(ts)
	if r.received > 1 {
		d := transit - r.transit
		if d < 0 {
			d = -d
		}
		r.jitter += (float64(d) - r.jitter) / 16
	}
	r.transit = transit
}

// sequence does the sequence-number bookkeeping of a packet. Telephone
// events (RFC 4733) come only here: they are received packets of the
// source, but their timestamp stays at the event's start, so they are kept
// out of the interarrival jitter.
func (r *recvStats) sequence(ssrc uint32, seq uint16, dup bool) {
	if !r.init || ssrc != r.ssrc {
		r.reset(ssrc, seq)
	} else {
		d := seq - r.maxSeq
		if d != 0 && d < 0x8000 {
			if seq < r.maxSeq {
				r.cycles += 1 << 16
			}
			r.maxSeq = seq
		} else if d >= 0x8000 && uint16(r.maxSeq-seq) > 3000 {
			// A very large jump back: the sender restarted.
			r.reset(ssrc, seq)
		}
	}
	if !dup {
		r.received++
	}
}

func (r *recvStats) extMax() uint32 { return r.cycles + uint32(r.maxSeq) }

func (r *recvStats) expected() uint64 {
	if !r.init {
		return 0
	}
	return uint64(r.extMax()-r.baseSeq) + 1
}

func (r *recvStats) lost() int64 { return int64(r.expected()) - int64(r.received) }

// report builds a reception report block and advances the interval counters.
func (r *recvStats) report(lsr uint32, dlsr uint32) (fraction uint8, total uint32) {
	exp := r.expected()
	expInt := exp - r.expectedPri
	recInt := r.received - r.receivedPri
	r.expectedPri, r.receivedPri = exp, r.received
	lostInt := int64(expInt) - int64(recInt)
	if expInt > 0 && lostInt > 0 {
		fraction = uint8((lostInt << 8) / int64(expInt))
	}
	l := r.lost()
	if l < 0 {
		l = 0
	}
	if l > 0x7fffff {
		l = 0x7fffff
	}
	return fraction, uint32(l)
}

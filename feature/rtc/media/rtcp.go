package media

import (
	"errors"
	"math/rand/v2"
	"net"
	"time"

	"github.com/pion/rtcp"
)

// ntpEpochOffset is the number of seconds from 1900 to 1970.
const ntpEpochOffset = 2208988800

func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + ntpEpochOffset
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}

// mid32 returns the middle 32 bits of an NTP time (RFC 3550 section 6.4.1).
func mid32(ntp uint64) uint32 { return uint32(ntp >> 16) }

// report builds our SR (or RR when nothing was sent) with a reception block
// for the peer.
func (s *Stream) report() rtcp.Packet {
	s.mu.Lock()
	defer s.mu.Unlock()
	var blocks []rtcp.ReceptionReport
	if s.rs.init {
		var dlsr uint32
		if s.lsr != 0 {
			dlsr = uint32(time.Since(s.lsrAt) * 65536 / time.Second)
		}
		frac, total := s.rs.report(s.lsr, dlsr)
		blocks = append(blocks, rtcp.ReceptionReport{
			SSRC:               s.rs.ssrc,
			FractionLost:       frac,
			TotalLost:          total,
			LastSequenceNumber: s.rs.extMax(),
			Jitter:             uint32(s.rs.jitter),
			LastSenderReport:   s.lsr,
			Delay:              dlsr,
		})
	}
	s.stats.RTCPSent++
	if s.sentPkts == 0 {
		return &rtcp.ReceiverReport{SSRC: s.ssrc, Reports: blocks}
	}
	now := time.Now()
	s.sendMu.Lock()
	ts := s.ts
	s.sendMu.Unlock()
	return &rtcp.SenderReport{
		SSRC: s.ssrc, NTPTime: ntpTime(now), RTPTime: ts,
		PacketCount: s.sentPkts, OctetCount: s.sentBytes, Reports: blocks,
	}
}

// rtcpLoop sends compound reports at a randomised interval and reads the
// peer's reports.
func (s *Stream) rtcpLoop() {
	defer s.wg.Done()
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, _, err := s.cfg.RTCP.ReadFromUDP(buf)
			if err != nil {
				if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			s.HandleRTCP(buf[:n])
		}
	}()
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{
		Source: s.ssrc,
		Items:  []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: s.cfg.CNAME}},
	}}}
	// First report early so RTT is known within a couple of seconds.
	wait := s.cfg.RTCPInterval / 2
	for {
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			<-done
			return
		case <-t.C:
		}
		if b, err := rtcp.Marshal([]rtcp.Packet{s.report(), sdes}); err == nil {
			s.cfg.RTCP.WriteToUDP(b, s.rrtcp.Load())
		}
		// RFC 3550 6.3.1: randomise between 0.5 and 1.5 times the interval.
		wait = time.Duration(float64(s.cfg.RTCPInterval) * (0.5 + rand.Float64()))
	}
}

// HandleRTCP processes one received RTCP datagram. Exported for fuzzing.
func (s *Stream) HandleRTCP(b []byte) {
	pkts, err := rtcp.Unmarshal(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.stats.MalformedInput++
		return
	}
	s.stats.RTCPReceived++
	now := time.Now()
	for _, p := range pkts {
		var blocks []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.lsr = mid32(p.NTPTime)
			s.lsrAt = now
			blocks = p.Reports
		case *rtcp.ReceiverReport:
			blocks = p.Reports
		}
		for _, rr := range blocks {
			if rr.SSRC != s.ssrc {
				continue
			}
			s.stats.RemoteLost = int64(rr.TotalLost)
			if rr.TotalLost&0x800000 != 0 { // 24-bit signed
				s.stats.RemoteLost = int64(rr.TotalLost) - 1<<24
			}
			s.stats.RemoteJitter = time.Duration(float64(rr.Jitter) / 8000 * float64(time.Second))
			if rr.LastSenderReport != 0 {
				rtt := int64(int32(mid32(ntpTime(now)) - rr.LastSenderReport - rr.Delay))
				if rtt >= 0 && rtt < 65536*10 {
					s.stats.RTT = time.Duration(rtt) * time.Second / 65536
					if s.stats.RTT == 0 {
						s.stats.RTT = time.Microsecond // measured, below resolution
					}
				}
			}
		}
	}
}

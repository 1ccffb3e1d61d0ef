package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// FrameDuration is the packet time the stack sends.
const FrameDuration = 20 * time.Millisecond

// RealTimeSource is implemented by sources that pace themselves (a
// microphone blocks until 20 ms of audio is there); the stream then does not
// add its own 20 ms clock.
type RealTimeSource interface {
	audio.Source
	RealTime() bool
}

// CaptureTimer is implemented by sources that know when the frame they
// just returned was captured (a sound card's microphone): the stream then
// measures capture to wire (Stats.Capture).
type CaptureTimer interface {
	// CapturedAt returns when the first sample of the last frame
	// ReadFrame returned was captured.
	CapturedAt() time.Time
}

// PlayoutTimer is implemented by sinks that know how long a frame written
// waits before it is heard (a sound card's speaker): the stream then
// measures wire to playback (Stats.Playout).
type PlayoutTimer interface {
	// PlayoutDelay returns how long after the last WriteFrame returned
	// the first sample of that frame is heard.
	PlayoutDelay() time.Duration
}

// Config describes one RTP stream.
type Config struct {
	RTP, RTCP   *net.UDPConn // local sockets (see Listen)
	Remote      *net.UDPAddr // where to send RTP
	RemoteRTCP  *net.UDPAddr // where to send RTCP; nil means Remote port+1
	Codec       Codec
	EventPT     int // telephone-event payload type, -1 if not negotiated
	Source      audio.Source
	Sink        audio.Sink
	Jitter      JitterConfig
	CNAME       string
	Logger      *slog.Logger
	OnSourceEnd func() // called once when Source returns io.EOF
	// OnDTMF is called with each telephone-event digit received, in order,
	// on a goroutine of its own (digits beyond 64 waiting are dropped).
	OnDTMF func(digit byte)
	// RTCPInterval is the RTCP report interval; 0 means 1 s (RFC 3550 allows
	// a smaller minimum for small sessions; 1 s gives RTT early in a call).
	RTCPInterval time.Duration
}

// Stream sends and receives one call's audio.
type Stream struct {
	cfg    Config
	log    *slog.Logger
	ssrc   uint32
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	remote atomic.Pointer[net.UDPAddr]
	mute   atomic.Bool // not sending: on hold (RFC 3264 recvonly/inactive)
	rrtcp  atomic.Pointer[net.UDPAddr]

	start   chan struct{} // jitter buffer started playing: re-phase playout
	epoch   time.Time
	sendMu  sync.Mutex // serialises RTP writes (voice and DTMF)
	seq     uint16
	ts      uint32
	evDigit chan byte
	dtmf    chan byte // received digits for OnDTMF

	mu        sync.Mutex // guards everything below
	jb        *JitterBuffer
	rs        recvStats
	stats     Stats
	lsr       uint32    // middle 32 bits of the last SR's NTP time
	lsrAt     time.Time // when that SR arrived
	lastEvent uint32    // RTP timestamp of the last telephone-event seen
	sentPkts  uint32
	sentBytes uint32
	capture   latency
	playout   latency
	closeOnce sync.Once
}

// latency aggregates per-frame latencies.
type latency struct {
	sum, max time.Duration
	n        uint64
}

func (l *latency) add(d time.Duration) {
	l.sum += d
	l.n++
	l.max = max(l.max, d)
}

func (l latency) stats() LatencyStats {
	if l.n == 0 {
		return LatencyStats{}
	}
	return LatencyStats{Mean: l.sum / time.Duration(l.n), Max: l.max, Frames: l.n}
}

// Start begins sending and receiving.
func Start(cfg Config) (*Stream, error) {
	if cfg.RTP == nil || cfg.RTCP == nil || cfg.Remote == nil {
		return nil, errors.New("media: start: RTP and RTCP sockets and a remote address are required")
	}
	if cfg.Source == nil {
		cfg.Source = audio.Silence{}
	}
	if cfg.Sink == nil {
		cfg.Sink = audio.Discard{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RTCPInterval == 0 {
		cfg.RTCPInterval = time.Second
	}
	if cfg.CNAME == "" {
		cfg.CNAME = "rtc@" + cfg.RTP.LocalAddr().String()
	}
	var rnd [10]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("media: random SSRC: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stream{
		cfg:     cfg,
		log:     cfg.Logger,
		ssrc:    binary.BigEndian.Uint32(rnd[0:4]),
		seq:     binary.BigEndian.Uint16(rnd[4:6]),
		ts:      binary.BigEndian.Uint32(rnd[6:10]),
		ctx:     ctx,
		cancel:  cancel,
		start:   make(chan struct{}, 1),
		evDigit: make(chan byte, 16),
		jb:      NewJitterBuffer(cfg.Jitter),
		epoch:   time.Now(),
	}
	s.stats.Codec = cfg.Codec.Name
	s.SetRemote(cfg.Remote, cfg.RemoteRTCP)
	if cfg.OnDTMF != nil {
		s.dtmf = make(chan byte, 64)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for {
				select {
				case d := <-s.dtmf:
					cfg.OnDTMF(d)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	s.wg.Add(4)
	go s.sendLoop()
	go s.recvLoop()
	go s.playLoop()
	go s.rtcpLoop()
	return s, nil
}

// SSRC returns our synchronisation source identifier.
func (s *Stream) SSRC() uint32 { return s.ssrc }

// SetRemote changes where media goes (after a re-INVITE).
func (s *Stream) SetRemote(rtpAddr, rtcpAddr *net.UDPAddr) {
	if rtcpAddr == nil {
		rtcpAddr = &net.UDPAddr{IP: rtpAddr.IP, Port: rtpAddr.Port + 1, Zone: rtpAddr.Zone}
	}
	s.remote.Store(rtpAddr)
	s.rrtcp.Store(rtcpAddr)
}

// Stats returns a snapshot; safe while the call runs.
func (s *Stream) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Expected = s.rs.expected()
	st.Lost = s.rs.lost()
	st.Jitter = time.Duration(s.rs.jitter / 8000 * float64(time.Second))
	st.Buffer = s.jb.Stats()
	st.Capture = s.capture.stats()
	st.Playout = s.playout.stats()
	return st
}

// Close stops the stream, sends an RTCP BYE and closes the sockets.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		if b, err := rtcp.Marshal([]rtcp.Packet{s.report(), &rtcp.Goodbye{Sources: []uint32{s.ssrc}}}); err == nil {
			s.cfg.RTCP.WriteToUDP(b, s.rrtcp.Load())
		}
		s.cfg.RTP.Close()
		s.cfg.RTCP.Close()
		s.wg.Wait()
	})
	return nil
}

// sendLoop reads a frame from the source every 20 ms and sends it.
func (s *Stream) sendLoop() {
	defer s.wg.Done()
	frame := make([]int16, audio.FrameSamples)
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: s.cfg.Codec.PT, SSRC: s.ssrc, Marker: true}}
	buf := make([]byte, 0, 12+audio.FrameSamples)
	var payload []byte
	rt, _ := s.cfg.Source.(RealTimeSource)
	selfPaced := rt != nil && rt.RealTime()
	ct, _ := s.cfg.Source.(CaptureTimer)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	next := time.Now()
	ended := false
	for {
		if !ended {
			err := s.cfg.Source.ReadFrame(frame)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.log.Warn("media: audio source failed", "err", err)
				}
				ended = true
				if s.cfg.OnSourceEnd != nil {
					go s.cfg.OnSourceEnd()
				}
			}
		}
		if s.ctx.Err() != nil {
			return
		}
		if ended {
			// Keep the RTP clock running with silence, as phones do.
			clear(frame)
		}
		if s.mute.Load() {
			// On hold: send nothing; the clock runs on, the sequence
			// does not (no gap for the peer to count as loss).
			s.sendMu.Lock()
			s.ts += audio.FrameSamples
			pkt.Marker = true
			s.sendMu.Unlock()
		} else {
			payload = s.cfg.Codec.Encode(payload[:0], frame)
			s.sendPacket(pkt, buf, payload)
			if ct != nil && !ended {
				if at := ct.CapturedAt(); !at.IsZero() {
					d := time.Since(at)
					s.mu.Lock()
					s.capture.add(d)
					s.mu.Unlock()
				}
			}
		}
		if selfPaced && !ended {
			next = time.Now() // the source keeps time; ours resumes from here if it ends
			continue
		}
		next = next.Add(FrameDuration)
		wait := time.Until(next)
		if wait < -10*time.Millisecond {
			s.mu.Lock()
			s.stats.LateSends++
			s.mu.Unlock()
			if wait < -200*time.Millisecond {
				next = time.Now() // far behind (suspended?): resync, don't burst
			}
		}
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.ctx.Done():
				return
			}
		}
	}
}

func (s *Stream) sendPacket(pkt *rtp.Packet, buf, payload []byte) {
	s.sendMu.Lock()
	pkt.SequenceNumber, pkt.Timestamp, pkt.Payload = s.seq, s.ts, payload
	b, err := pkt.Header.MarshalTo(buf[:cap(buf)])
	if err == nil {
		out := append(buf[:b], payload...)
		if _, werr := s.cfg.RTP.WriteToUDP(out, s.remote.Load()); werr != nil && s.ctx.Err() == nil {
			s.log.Debug("media: send RTP", "err", werr)
		}
	}
	s.seq++
	s.ts += audio.FrameSamples
	pkt.Marker = false
	s.sendMu.Unlock()
	s.mu.Lock()
	s.stats.PacketsSent++
	s.stats.BytesSent += uint64(len(payload))
	s.sentPkts++
	s.sentBytes += uint32(len(payload))
	s.mu.Unlock()
}

// SetSending starts (true) or stops (false) sending RTP, as a call put on
// hold must; RTCP goes on.
func (s *Stream) SetSending(on bool) { s.mute.Store(!on) }

// Sending reports whether RTP is being sent.
func (s *Stream) Sending() bool { return !s.mute.Load() }

// recvLoop reads RTP packets into the jitter buffer.
func (s *Stream) recvLoop() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	for {
		n, _, err := s.cfg.RTP.ReadFromUDP(buf)
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.HandleRTP(buf[:n], &pkt)
	}
}

// HandleRTP processes one received datagram as RTP. It is exported for
// fuzzing and for callers that demultiplex RTP themselves.
func (s *Stream) HandleRTP(b []byte, pkt *rtp.Packet) {
	if err := pkt.Unmarshal(b); err != nil || pkt.Version != 2 {
		s.mu.Lock()
		s.stats.MalformedInput++
		s.mu.Unlock()
		return
	}
	since := time.Since(s.epoch)
	arrival := int64(since * 8000 / time.Second)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.PacketsReceived++
	s.stats.BytesReceived += uint64(len(pkt.Payload))
	if s.cfg.EventPT >= 0 && pkt.PayloadType == uint8(s.cfg.EventPT) {
		s.handleEvent(pkt)
		if len(pkt.Payload) >= 4 {
			// Same sequence space as the audio: not a gap in it.
			s.jb.PushEvent(pkt.SSRC, pkt.SequenceNumber)
			s.rs.sequence(pkt.SSRC, pkt.SequenceNumber, false)
		}
		return
	}
	if pkt.PayloadType != s.cfg.Codec.PT || len(pkt.Payload) == 0 || len(pkt.Payload) > 960 {
		// Comfort noise or a codec we did not negotiate: count, do not play.
		s.stats.MalformedInput++
		return
	}
	dups := s.jb.stats.Duplicates
	started := s.jb.PushAt(pkt.SSRC, pkt.SequenceNumber, pkt.Payload, since)
	s.rs.update(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, arrival, s.jb.stats.Duplicates != dups)
	s.jb.SetJitter(s.rs.jitter / 8)
	if started {
		select {
		case s.start <- struct{}{}:
		default:
		}
	}
}

// handleEvent records RFC 4733 telephone events (one digit per event).
func (s *Stream) handleEvent(pkt *rtp.Packet) {
	if len(pkt.Payload) < 4 {
		s.stats.MalformedInput++
		return
	}
	ev := pkt.Payload[0]
	if pkt.Timestamp == s.lastEvent && s.stats.DTMFReceived != "" {
		return // same event, continued or repeated end packet
	}
	const digits = "0123456789*#ABCD"
	if int(ev) < len(digits) {
		s.lastEvent = pkt.Timestamp
		s.stats.DTMFReceived += string(digits[ev])
		if s.dtmf != nil {
			select {
			case s.dtmf <- digits[ev]:
			default:
			}
		}
	}
}

// SendDTMF sends one RFC 4733 telephone event (0-9, *, #, A-D) lasting
// 100 ms. It fails if the peer did not offer telephone-event.
func (s *Stream) SendDTMF(digit byte) error {
	if s.cfg.EventPT < 0 {
		return errors.New("media: the peer did not negotiate telephone-event; DTMF cannot be sent in band")
	}
	const digits = "0123456789*#ABCD"
	code := -1
	for i := range len(digits) {
		if digits[i] == digit {
			code = i
		}
	}
	if code < 0 {
		return fmt.Errorf("media: %q is not a DTMF digit (0-9 * # A-D)", digit)
	}
	s.sendMu.Lock()
	ts := s.ts
	s.sendMu.Unlock()
	for i := range 5 + 3 { // 5 updates over 100 ms, then the end packet 3 times
		dur := uint16(min(i+1, 5) * audio.FrameSamples)
		end := i >= 5
		p := []byte{byte(code), 10, byte(dur >> 8), byte(dur)}
		if end {
			p[1] |= 0x80
		}
		s.sendMu.Lock()
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: uint8(s.cfg.EventPT), SequenceNumber: s.seq, Timestamp: ts, SSRC: s.ssrc, Marker: i == 0}, Payload: p}
		s.seq++
		b, err := pkt.Marshal()
		if err == nil {
			_, err = s.cfg.RTP.WriteToUDP(b, s.remote.Load())
		}
		s.sendMu.Unlock()
		if err != nil {
			return fmt.Errorf("media: send DTMF: %w", err)
		}
		if i < 5 {
			select {
			case <-time.After(FrameDuration):
			case <-s.ctx.Done():
				return s.ctx.Err()
			}
		}
	}
	return nil
}

// cushion is how long after the packet that started playout the first
// frame plays: half a frame plus twice the measured jitter, at most a frame.
// It puts the playout clock between packet arrivals so that jitter smaller
// than the cushion does not cause underruns.
func (s *Stream) cushion() time.Duration {
	s.mu.Lock()
	j := time.Duration(s.rs.jitter / 8000 * float64(time.Second))
	s.mu.Unlock()
	return min(FrameDuration/2+2*j, FrameDuration)
}

// playLoop releases one frame every 20 ms from the jitter buffer to the sink.
func (s *Stream) playLoop() {
	defer s.wg.Done()
	out := make([]int16, 0, audio.FrameSamples*2)
	last := make([]int16, audio.FrameSamples)
	concealRun := 0
	pt, _ := s.cfg.Sink.(PlayoutTimer)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// sleepUntil waits for t; a (re)start of the buffer moves t to now plus
	// the cushion.
	sleepUntil := func(t time.Time) (time.Time, bool) {
		for {
			wait := time.Until(t)
			if wait <= 0 {
				return t, true
			}
			timer.Reset(wait)
			select {
			case <-timer.C:
				return t, true
			case <-s.start:
				if !timer.Stop() {
					<-timer.C
				}
				t = time.Now().Add(s.cushion())
			case <-s.ctx.Done():
				return t, false
			}
		}
	}
	select {
	case <-s.start:
	case <-s.ctx.Done():
		return
	}
	next, ok := sleepUntil(time.Now().Add(s.cushion()))
	if !ok {
		return
	}
	for {
		s.mu.Lock()
		f, ok := s.jb.Pop()
		if ok && !f.Concealed {
			out = s.cfg.Codec.Decode(out[:0], f.Payload)
		}
		s.mu.Unlock()
		switch {
		case ok && f.Event:
			concealRun = 0
			out = out[:audio.FrameSamples]
			clear(out)
		case ok && !f.Concealed:
			concealRun = 0
			if len(out) != audio.FrameSamples {
				out = append(out[:min(len(out), audio.FrameSamples)], make([]int16, max(0, audio.FrameSamples-len(out)))...)
			}
			copy(last, out)
		default:
			// Conceal: repeat the last frame fading by half each time, then silence.
			concealRun++
			out = out[:audio.FrameSamples]
			for i := range out {
				out[i] = int16(int32(last[i]) >> concealRun)
			}
			if concealRun > 4 {
				clear(out)
			}
		}
		if err := s.cfg.Sink.WriteFrame(out); err != nil && s.ctx.Err() == nil {
			s.log.Warn("media: audio sink failed", "err", err)
		} else if err == nil && pt != nil && ok && !f.Concealed && !f.Event {
			// Wire to playback: the packet's wait here, then the sink's.
			d := time.Since(s.epoch) - f.Arrival + pt.PlayoutDelay()
			s.mu.Lock()
			s.playout.add(d)
			s.mu.Unlock()
		}
		next = next.Add(FrameDuration)
		if time.Until(next) < -time.Second {
			next = time.Now() // stalled for over a second: do not replay it all at once
		}
		if next, ok = sleepUntil(next); !ok {
			return
		}
	}
}

package media

import (
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/oemkit/messenger/feature/rtc/audio"
	"github.com/pion/rtp"
)

func listenPair(t testing.TB) (*net.UDPConn, *net.UDPConn) {
	t.Helper()
	a, b, err := Listen(net.IPv4(127, 0, 0, 1), PortRange{Min: 40000, Max: 49999})
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

// lossyRelay forwards UDP datagrams from its socket to dst, dropping,
// duplicating and reordering some of them.
type lossyRelay struct {
	conn                     *net.UDPConn
	dst                      *net.UDPAddr
	loss, dup, reorder       float64
	mu                       sync.Mutex
	forwarded, dropped, dups int
	reordered                int
	rng                      *rand.Rand
}

func newLossyRelay(t *testing.T, dst *net.UDPAddr, loss, dup, reorder float64, seed uint64) *lossyRelay {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &lossyRelay{conn: c, dst: dst, loss: loss, dup: dup, reorder: reorder, rng: rand.New(rand.NewPCG(seed, seed))}
	t.Cleanup(func() { c.Close() })
	go r.run()
	return r
}

func (r *lossyRelay) addr() *net.UDPAddr { return r.conn.LocalAddr().(*net.UDPAddr) }

func (r *lossyRelay) run() {
	buf := make([]byte, 1500)
	var held []byte
	for {
		n, _, err := r.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		pkt := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		x := r.rng.Float64()
		switch {
		case x < r.loss:
			r.dropped++
			r.mu.Unlock()
			continue
		case x < r.loss+r.reorder && held == nil:
			held = pkt // send after the next one
			r.reordered++
			r.mu.Unlock()
			continue
		case x < r.loss+r.reorder+r.dup:
			r.conn.WriteToUDP(pkt, r.dst)
			r.dups++
		}
		r.forwarded++
		r.mu.Unlock()
		r.conn.WriteToUDP(pkt, r.dst)
		if held != nil {
			r.conn.WriteToUDP(held, r.dst)
			r.mu.Lock()
			r.forwarded++
			r.mu.Unlock()
			held = nil
		}
	}
}

// indexSource writes the frame number into the signs of the first 16
// samples at full level, so it survives G.711.
type indexSource struct {
	n, frames int
}

func (s *indexSource) ReadFrame(f []int16) error {
	if s.frames > 0 && s.n >= s.frames {
		return errEOF
	}
	clear(f)
	for b := range 16 {
		f[b] = -12000
		if s.n>>b&1 == 1 {
			f[b] = 12000
		}
	}
	s.n++
	return nil
}

// indexSink decodes frames written by indexSource; -1 marks a frame that is
// not a full-level original (concealment or silence).
type indexSink struct {
	mu  sync.Mutex
	got []int
}

func (s *indexSink) WriteFrame(f []int16) error {
	idx := 0
	for b := range 16 {
		v := f[b]
		if v < 9000 && v > -9000 {
			idx = -1
			break
		}
		if v > 0 {
			idx |= 1 << b
		}
	}
	s.mu.Lock()
	s.got = append(s.got, idx)
	s.mu.Unlock()
	return nil
}

func (s *indexSink) frames() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.got...)
}

func TestLossyRelay(t *testing.T) {
	for _, codec := range []string{"PCMU", "PCMA"} {
		t.Run(codec, func(t *testing.T) {
			c, err := NewCodec(codec, map[string]uint8{"PCMU": 0, "PCMA": 8}[codec])
			if err != nil {
				t.Fatal(err)
			}
			aRTP, aRTCP := listenPair(t)
			bRTP, bRTCP := listenPair(t)
			relay := newLossyRelay(t, bRTP.LocalAddr().(*net.UDPAddr), 0.05, 0.05, 0.05, 7)
			const frames = 200 // 4 s
			sink := &indexSink{}
			ended := make(chan struct{})
			a, err := Start(Config{RTP: aRTP, RTCP: aRTCP, Remote: relay.addr(), RemoteRTCP: bRTCP.LocalAddr().(*net.UDPAddr),
				Codec: c, EventPT: -1, Source: &indexSource{frames: frames}, OnSourceEnd: func() { close(ended) }})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := Start(Config{RTP: bRTP, RTCP: bRTCP, Remote: aRTP.LocalAddr().(*net.UDPAddr), RemoteRTCP: aRTCP.LocalAddr().(*net.UDPAddr),
				Codec: c, EventPT: -1, Sink: sink, RTCPInterval: 500 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			select {
			case <-ended:
			case <-time.After(30 * time.Second):
				t.Fatal("source did not end")
			}
			// Let the buffer drain and an RTCP report reach the sender.
			deadline := time.Now().Add(10 * time.Second)
			for time.Now().Before(deadline) && (a.Stats().RemoteLost == 0 || b.Stats().Buffer.Played+b.Stats().Buffer.Dropped+uint64(b.Stats().Lost) < frames-1) {
				time.Sleep(20 * time.Millisecond)
			}
			st := b.Stats()
			relay.mu.Lock()
			dropped, dups, reordered := relay.dropped, relay.dups, relay.reordered
			relay.mu.Unlock()
			t.Logf("relay: dropped %d, duplicated %d, reordered %d of %d", dropped, dups, reordered, frames)
			t.Logf("receiver: %s", st)

			got := sink.frames()
			last, real, concealed := -1, 0, 0
			for i, idx := range got {
				if idx < 0 {
					concealed++
					continue
				}
				if idx >= frames {
					continue // silence after the source ended encodes as 0..; ignore
				}
				if idx <= last {
					t.Fatalf("frame %d played index %d after %d: out of order", i, idx, last)
				}
				last = idx
				real++
			}
			if dropped == 0 || dups == 0 || reordered == 0 {
				t.Fatalf("relay did not exercise loss/dup/reorder: %d/%d/%d", dropped, dups, reordered)
			}
			if st.Lost < int64(dropped)-2 || st.Lost > int64(dropped) {
				t.Errorf("Stats().Lost = %d, want about the %d the relay dropped", st.Lost, dropped)
			}
			if st.Buffer.Duplicates+st.Buffer.Late < uint64(dups)-2 {
				t.Errorf("duplicates %d + late %d, want about the %d the relay duplicated", st.Buffer.Duplicates, st.Buffer.Late, dups)
			}
			if concealed < int(st.Lost)-2 {
				t.Errorf("concealed frames = %d, want at least the %d lost", concealed, st.Lost)
			}
			if real < frames-dropped-int(st.Buffer.Dropped)-int(st.Buffer.Late)-2 {
				t.Errorf("played %d original frames, want %d sent - %d lost - %d skipped - %d late", real, frames, dropped, st.Buffer.Dropped, st.Buffer.Late)
			}
			if rl := a.Stats().RemoteLost; rl == 0 {
				t.Errorf("sender's RemoteLost = 0 after RTCP, want the receiver's loss reported back")
			}
		})
	}
}

func TestDTMF(t *testing.T) {
	c, _ := NewCodec("PCMU", 0)
	aRTP, aRTCP := listenPair(t)
	bRTP, bRTCP := listenPair(t)
	a, err := Start(Config{RTP: aRTP, RTCP: aRTCP, Remote: bRTP.LocalAddr().(*net.UDPAddr), Codec: c, EventPT: 101})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Start(Config{RTP: bRTP, RTCP: bRTCP, Remote: aRTP.LocalAddr().(*net.UDPAddr), Codec: c, EventPT: 101})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, d := range []byte("1#9") {
		if err := a.SendDTMF(d); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.SendDTMF('x'); err == nil {
		t.Error("SendDTMF('x') error = nil, want an error")
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().DTMFReceived != "1#9" && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := b.Stats().DTMFReceived; got != "1#9" {
		t.Errorf("DTMFReceived = %q, want %q", got, "1#9")
	}
}

func FuzzHandlePacket(f *testing.F) {
	good := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 160, SSRC: 5}, Payload: make([]byte, 160)}
	b, _ := good.Marshal()
	f.Add(b)
	ev := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SequenceNumber: 2, SSRC: 5}, Payload: []byte{1, 0x8a, 0, 160}}
	b, _ = ev.Marshal()
	f.Add(b)
	f.Add([]byte{0x80, 0xc8, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // RTCP SR
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0})                // extension
	f.Add([]byte{0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 9})                                                 // bad padding
	c, _ := NewCodec("PCMA", 0)
	aRTP, aRTCP := listenPair(f)
	s, err := Start(Config{RTP: aRTP, RTCP: aRTCP, Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Codec: c, EventPT: 101})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	var pkt rtp.Packet
	f.Fuzz(func(t *testing.T, b []byte) {
		s.HandleRTP(b, &pkt)
		s.HandleRTCP(b)
		st := s.Stats()
		if st.Buffer.Depth < 0 || st.Buffer.Depth > jbSlots {
			t.Fatalf("buffer depth %d out of range", st.Buffer.Depth)
		}
	})
}

var _ audio.Source = (*indexSource)(nil)

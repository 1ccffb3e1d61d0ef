package media

import (
	"math"
	"time"
)

// jbSlots is the jitter buffer's capacity in packets (1.28 s at 20 ms).
const jbSlots = 64

// JitterConfig sets the jitter buffer's delay bounds, in 20 ms frames.
type JitterConfig struct {
	MinFrames int // smallest target depth; 0 means 1
	MaxFrames int // largest target depth; 0 means 10
}

// JitterStats counts what the jitter buffer did.
type JitterStats struct {
	Played      uint64 // frames played from received packets
	Concealed   uint64 // frames replaced by concealment (loss, late, underrun)
	Duplicates  uint64 // packets dropped because already buffered or played
	Late        uint64 // packets dropped because their slot had been played
	Underruns   uint64 // times the buffer ran dry and re-buffered
	Dropped     uint64 // frames skipped to shrink the delay
	SSRCChanges uint64 // times the sender's SSRC changed
	Resyncs     uint64 // times a sequence jump made the buffer start over
	Target      int    // current target depth, frames
	Depth       int    // packets buffered now
}

type slot struct {
	seq     uint16
	valid   bool // holds an unplayed packet
	played  bool // seq's slot was played (to tell duplicates from late packets)
	real    bool // played from a received packet, not concealed
	event   bool // a telephone-event packet: takes a sequence number, holds no audio
	arrival time.Duration
	payload []byte
}

// PlayoutFrame is what the buffer hands out for one 20 ms tick.
type PlayoutFrame struct {
	Payload   []byte        // packet payload; nil when concealed
	Seq       uint16        // sequence number of the played slot
	Arrival   time.Duration // when the packet arrived, as given to PushAt
	Concealed bool          // no packet for this slot: conceal
	// Event marks a tick where only telephone-event packets (RFC 4733) took
	// the sequence numbers: play silence; it is neither loss nor underrun.
	Event bool
}

// JitterBuffer reorders RTP payloads by sequence number and releases one per
// 20 ms tick. It adapts its depth: an underrun raises the target, a buffer that
// stays deeper than the target for a second drops a frame, and the target is
// never below what the measured interarrival jitter needs. It is not safe for
// concurrent use; Stream serialises access.
type JitterBuffer struct {
	cfg     JitterConfig
	slots   [jbSlots]slot
	ssrc    uint32
	hasSSRC bool
	next    uint16 // next sequence number to play
	hasNext bool   // next is meaningful: something was played since the last reset
	lowest  uint16 // lowest buffered seq while not playing
	count   int
	playing bool
	target  int
	// shrink bookkeeping: minimum depth seen in the current window of ticks
	winTicks int
	winMin   int
	calmTick int // ticks since the last underrun
	stats    JitterStats
}

// NewJitterBuffer returns an empty buffer.
func NewJitterBuffer(cfg JitterConfig) *JitterBuffer {
	if cfg.MinFrames <= 0 {
		cfg.MinFrames = 1
	}
	if cfg.MaxFrames < cfg.MinFrames {
		cfg.MaxFrames = max(10, cfg.MinFrames)
	}
	if cfg.MaxFrames > jbSlots/2 {
		cfg.MaxFrames = jbSlots / 2
	}
	return &JitterBuffer{cfg: cfg, target: cfg.MinFrames, winMin: math.MaxInt}
}

func (j *JitterBuffer) reset() {
	for i := range j.slots {
		j.slots[i] = slot{}
	}
	j.count = 0
	j.playing = false
	j.hasNext = false
}

// Push stores a packet's payload. It returns true when this packet made the
// buffer start (or restart) playing, so the caller can align its playout
// clock to now.
func (j *JitterBuffer) Push(ssrc uint32, seq uint16, payload []byte) (started bool) {
	return j.push(ssrc, seq, payload, false, 0)
}

// PushAt is Push with the packet's arrival time (on any clock the caller
// keeps), handed back in PlayoutFrame.Arrival.
func (j *JitterBuffer) PushAt(ssrc uint32, seq uint16, payload []byte, arrival time.Duration) (started bool) {
	return j.push(ssrc, seq, payload, false, arrival)
}

// PushEvent records that seq carried a telephone event (RFC 4733 shares
// the audio's sequence space): playout steps over it without concealing,
// and it does not count towards the buffer's depth.
func (j *JitterBuffer) PushEvent(ssrc uint32, seq uint16) {
	j.push(ssrc, seq, nil, true, 0)
}

func (j *JitterBuffer) push(ssrc uint32, seq uint16, payload []byte, event bool, arrival time.Duration) (started bool) {
	if !j.hasSSRC || ssrc != j.ssrc {
		if j.hasSSRC {
			j.stats.SSRCChanges++
		}
		j.reset()
		j.ssrc, j.hasSSRC = ssrc, true
	}
	s := &j.slots[seq%jbSlots]
	if j.hasNext {
		// Judge the packet against the playout position, also while
		// re-buffering after an underrun.
		d := int16(seq - j.next)
		if d <= -jbSlots {
			// Far behind what we played: the sender restarted. Start over.
			j.stats.Resyncs++
			j.reset()
			s = &j.slots[seq%jbSlots]
		} else if d < 0 {
			if s.seq == seq && ((s.played && s.real) || s.valid) {
				j.stats.Duplicates++
			} else {
				j.stats.Late++
			}
			return false
		}
		if int(d) >= jbSlots {
			// The sender jumped far ahead (restart or long outage): start over.
			j.stats.Resyncs++
			j.reset()
			s = &j.slots[seq%jbSlots]
		}
	}
	if !j.playing && j.count > 0 {
		d := int16(seq - j.lowest)
		if d <= -jbSlots/2 || d >= jbSlots/2 {
			j.stats.Resyncs++
			j.reset()
			s = &j.slots[seq%jbSlots]
		}
	}
	if s.valid && s.seq == seq {
		j.stats.Duplicates++
		return false
	}
	if s.played && s.seq == seq {
		if s.real {
			j.stats.Duplicates++
		} else {
			j.stats.Late++
		}
		return false
	}
	if s.valid && !s.event {
		// Slot still holds a packet 64 sequence numbers older: overflow.
		j.count--
		j.stats.Dropped++
	}
	*s = slot{seq: seq, valid: true, event: event, arrival: arrival, payload: append(s.payload[:0], payload...)}
	if event {
		return false
	}
	j.count++
	if !j.playing {
		if j.count == 1 || int16(seq-j.lowest) < 0 {
			j.lowest = seq
		}
		if j.count >= j.target {
			j.playing = true
			if !j.hasNext || int16(j.lowest-j.next) > 0 {
				j.next = j.lowest
			}
			j.hasNext = true
			return true
		}
	}
	return false
}

// SetJitter tells the buffer the measured interarrival jitter in ms so the
// target depth covers it.
func (j *JitterBuffer) SetJitter(ms float64) {
	need := int(math.Ceil(2 * ms / 20))
	need = min(max(need, j.cfg.MinFrames), j.cfg.MaxFrames)
	if need > j.target {
		j.target = need
	}
}

// Pop returns the frame for the next 20 ms tick. ok is false while the buffer
// is filling up (nothing to play yet).
func (j *JitterBuffer) Pop() (f PlayoutFrame, ok bool) {
	if !j.playing {
		return PlayoutFrame{}, false
	}
	j.track()
	s := &j.slots[j.next%jbSlots]
	events := false
	for s.valid && s.seq == j.next && s.event {
		s.valid, s.played, s.real = false, true, true
		j.next++
		events = true
		s = &j.slots[j.next%jbSlots]
	}
	if s.valid && s.seq == j.next {
		f = PlayoutFrame{Payload: s.payload, Seq: j.next, Arrival: s.arrival}
		s.valid, s.played, s.real = false, true, true
		j.count--
		j.next++
		j.stats.Played++
		return f, true
	}
	if events {
		// Events stood in for audio (or the next audio has not come yet):
		// a silent tick that is not a loss.
		return PlayoutFrame{Seq: j.next - 1, Event: true}, true
	}
	// Missing slot.
	f = PlayoutFrame{Seq: j.next, Concealed: true}
	j.stats.Concealed++
	// Remember the slot as played so a late arrival is counted as late.
	*s = slot{seq: j.next, played: true, payload: s.payload[:0]}
	j.next++
	if j.count == 0 {
		// Ran dry: the network is slower than our depth. Deepen and re-buffer.
		j.stats.Underruns++
		j.calmTick = 0
		if j.target < j.cfg.MaxFrames {
			j.target++
		}
		j.playing = false
	}
	return f, true
}

// track shrinks the buffer when it has stayed deeper than needed and relaxes
// the target after a calm period.
func (j *JitterBuffer) track() {
	j.calmTick++
	if j.calmTick >= 500 && j.target > j.cfg.MinFrames { // 10 s without underrun
		j.target--
		j.calmTick = 0
	}
	j.winMin = min(j.winMin, j.count)
	j.winTicks++
	if j.winTicks < 25 {
		return
	}
	// The buffer never fell to the target in half a second: it holds more
	// delay than the network needs. Skip half the excess.
	for excess := (j.winMin - j.target + 1) / 2; excess > 0; excess-- {
		s := &j.slots[j.next%jbSlots]
		if !s.valid || s.seq != j.next || s.event {
			break
		}
		s.valid, s.played, s.real = false, true, true
		j.count--
		j.next++
		j.stats.Dropped++
	}
	j.winTicks, j.winMin = 0, math.MaxInt
}

// Stats returns the counters.
func (j *JitterBuffer) Stats() JitterStats {
	s := j.stats
	s.Target = j.target
	s.Depth = j.count
	return s
}

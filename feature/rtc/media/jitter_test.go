package media

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// op is one step: push (ssrc, seq) or pop.
type op struct {
	pop  bool
	ssrc uint32
	seq  uint16
}

func push(ssrc uint32, seqs ...uint16) []op {
	var out []op
	for _, s := range seqs {
		out = append(out, op{ssrc: ssrc, seq: s})
	}
	return out
}

func pops(n int) []op {
	out := make([]op, n)
	for i := range out {
		out[i].pop = true
	}
	return out
}

func seqOf(ops ...[]op) []op {
	var out []op
	for _, o := range ops {
		out = append(out, o...)
	}
	return out
}

// run returns what each pop played: the payload's label, "~" for
// concealment, "-" for nothing yet.
func run(j *JitterBuffer, ops []op) []string {
	var got []string
	for _, o := range ops {
		if !o.pop {
			j.Push(o.ssrc, o.seq, []byte(fmt.Sprintf("%d/%d", o.ssrc, o.seq)))
			continue
		}
		f, ok := j.Pop()
		switch {
		case !ok:
			got = append(got, "-")
		case f.Concealed:
			got = append(got, "~")
		default:
			got = append(got, string(f.Payload))
		}
	}
	return got
}

func TestJitterBuffer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ops   []op
		want  []string
		check func(t *testing.T, s JitterStats)
	}{
		{
			name: "in order",
			ops:  seqOf(pops(1), push(1, 10, 11, 12), pops(3)),
			want: []string{"-", "1/10", "1/11", "1/12"},
		},
		{
			name: "reordered",
			ops:  seqOf(push(1, 10, 12, 11, 13), pops(4)),
			want: []string{"1/10", "1/11", "1/12", "1/13"},
		},
		{
			name: "loss concealed",
			ops:  seqOf(push(1, 10, 11, 13, 14), pops(5)),
			want: []string{"1/10", "1/11", "~", "1/13", "1/14"},
			check: func(t *testing.T, s JitterStats) {
				if s.Concealed != 1 || s.Played != 4 {
					t.Errorf("stats = %+v, want 1 concealed, 4 played", s)
				}
			},
		},
		{
			name: "duplicates dropped",
			ops:  seqOf(push(1, 10, 10, 11), pops(1), push(1, 10, 11, 12), pops(2)),
			want: []string{"1/10", "1/11", "1/12"},
			check: func(t *testing.T, s JitterStats) {
				if s.Duplicates != 3 {
					t.Errorf("Duplicates = %d, want 3", s.Duplicates)
				}
			},
		},
		{
			name: "late packet after concealment",
			ops:  seqOf(push(1, 10, 11, 13), pops(3), push(1, 12, 14), pops(1)),
			want: []string{"1/10", "1/11", "~", "1/13"},
			check: func(t *testing.T, s JitterStats) {
				if s.Late != 1 {
					t.Errorf("Late = %d, want 1", s.Late)
				}
			},
		},
		{
			name: "sequence wraps",
			ops:  seqOf(push(1, 65534, 65535, 0, 1), pops(4)),
			want: []string{"1/65534", "1/65535", "1/0", "1/1"},
		},
		{
			name: "ssrc change restarts",
			ops:  seqOf(push(1, 10, 11, 12), pops(1), push(2, 500, 501), pops(2)),
			want: []string{"1/10", "2/500", "2/501"},
			check: func(t *testing.T, s JitterStats) {
				if s.SSRCChanges != 1 {
					t.Errorf("SSRCChanges = %d, want 1", s.SSRCChanges)
				}
			},
		},
		{
			name: "underrun deepens the buffer",
			ops:  seqOf(push(1, 10, 11), pops(3), push(1, 13, 14), pops(1), push(1, 15), pops(3)),
			want: []string{"1/10", "1/11", "~", "-", "1/13", "1/14", "1/15"},
			check: func(t *testing.T, s JitterStats) {
				if s.Underruns != 1 || s.Target != 3 {
					t.Errorf("stats = %+v, want 1 underrun and target 3", s)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := NewJitterBuffer(JitterConfig{MinFrames: 2})
			got := run(j, tc.ops)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("playout (-want +got):\n%s", diff)
			}
			if tc.check != nil {
				tc.check(t, j.Stats())
			}
		})
	}
}

func TestJitterBufferShrinks(t *testing.T) {
	j := NewJitterBuffer(JitterConfig{MinFrames: 2, MaxFrames: 10})
	seq := uint16(0)
	for range 12 { // a burst: 12 packets at once
		j.Push(1, seq, []byte{1})
		seq++
	}
	for range 200 { // then steady: one in, one out
		j.Pop()
		j.Push(1, seq, []byte{1})
		seq++
	}
	if s := j.Stats(); s.Depth > s.Target+1 || s.Dropped == 0 {
		t.Errorf("after a burst and 4 s steady: stats = %+v, want depth near target %d and some frames dropped", s, s.Target)
	}
}

func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 255, 255, 5, 4, 255})
	f.Add([]byte{10, 10, 10, 200, 100, 255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		j := NewJitterBuffer(JitterConfig{})
		var ssrc uint32 = 1
		lastSeq, havePlayed := uint16(0), false
		resyncs := uint64(0)
		for i, x := range b {
			// Order restarts when the buffer starts over (new SSRC or a jump).
			if st := j.Stats(); st.Resyncs+st.SSRCChanges != resyncs {
				resyncs, havePlayed = st.Resyncs+st.SSRCChanges, false
			}
			switch {
			case x == 255:
				fr, ok := j.Pop()
				if ok && !fr.Concealed {
					if havePlayed && int16(fr.Seq-lastSeq) <= 0 {
						t.Fatalf("step %d: played seq %d after %d: out of order", i, fr.Seq, lastSeq)
					}
					lastSeq, havePlayed = fr.Seq, true
				}
			case x == 254:
				ssrc++
			default:
				j.Push(ssrc, uint16(x)*7, []byte{x})
			}
			if s := j.Stats(); s.Depth < 0 || s.Depth > jbSlots {
				t.Fatalf("step %d: depth %d out of range", i, s.Depth)
			}
		}
	})
}

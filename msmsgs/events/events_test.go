package events

import "testing"

func TestStream(t *testing.T) {
	var s Stream
	sub, hist, last := s.Subscribe(2)
	if len(hist) != 0 || last != 0 {
		t.Fatalf("new stream: history %v, last %d", hist, last)
	}
	for i := 0; i < 3; i++ {
		s.Publish(Event{Type: EventMessage})
	}
	if s.LastSeq() != 3 {
		t.Errorf("LastSeq = %d, want 3", s.LastSeq())
	}
	// A buffer of 2 and 3 events: the subscription lagged and is closed.
	n := 0
	for range sub.C {
		n++
	}
	if n != 2 || !sub.Lagged() {
		t.Errorf("received %d, lagged %v; want 2 and lagged", n, sub.Lagged())
	}
	sub2, hist, last := s.Subscribe(8)
	defer sub2.Close()
	if len(hist) != 3 || last != 3 || hist[0].Seq != 1 || hist[0].Time.IsZero() {
		t.Errorf("history %+v, last %d; want events 1..3 with times", hist, last)
	}
	for i := 0; i < historySize+5; i++ {
		s.Publish(Event{Type: EventStatus})
	}
	_, hist, _ = s.Subscribe(1)
	if len(hist) != historySize || hist[0].Seq != 3+5+1 || hist[len(hist)-1].Seq != s.LastSeq() {
		t.Errorf("history of %d from %d to %d, want the last %d in order", len(hist), hist[0].Seq, hist[len(hist)-1].Seq, historySize)
	}
}

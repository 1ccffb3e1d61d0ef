package transfer

import (
	"context"
	"io"
	"time"
)

// rateReader limits reads to rate bytes per second (msmsgs.ft_send_rate).
type rateReader struct {
	r     io.Reader
	rate  int64
	ctx   context.Context
	start time.Time
	n     int64
}

func (r *rateReader) Read(p []byte) (int, error) {
	chunk := max(r.rate/10, 1)
	if int64(len(p)) > chunk {
		p = p[:chunk]
	}
	// Sleep until the bytes read so far are within the rate.
	due := r.start.Add(time.Duration(float64(r.n) / float64(r.rate) * float64(time.Second)))
	if d := time.Until(due); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.ctx.Done():
			t.Stop()
			return 0, r.ctx.Err()
		}
	}
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

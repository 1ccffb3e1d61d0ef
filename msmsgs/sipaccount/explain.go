package sipaccount

import (
	"errors"
	"fmt"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/timesvc"
)

// TimeError is a clock skew failure with the time service's state: what
// the user needs to decide whether to wait for the time service, fix its
// server, or add it to the design.
type TimeError struct {
	Err  error  // the skew error (wraps kerberos.ErrClockSkew)
	Time string // the time service's state, in words
}

func (e *TimeError) Error() string { return e.Err.Error() + "; time service: " + e.Time }
func (e *TimeError) Unwrap() error { return e.Err }

// explain adds what the user needs to act on a failure: for a clock skew,
// the time service's state.
func (a *Account) explain(err error) error {
	var te *TimeError
	if !errors.Is(err, kerberos.ErrClockSkew) || errors.As(err, &te) {
		return err
	}
	return &TimeError{Err: err, Time: TimeState(a.cfg.TimeStatus, time.Now())}
}

// TimeState describes the time service's status file at path in words.
func TimeState(path string, now time.Time) string {
	st, err := timesvc.ReadStatus(path)
	if err != nil {
		return err.Error()
	}
	switch {
	case st.Synced && !st.LastSync.IsZero():
		return fmt.Sprintf("synced from %s %s ago (last offset %s, %d steps); if the skew persists, the KDC's or SIP server's clock is wrong",
			st.Server, now.Sub(st.LastSync).Round(time.Second), st.Offset, st.Steps)
	case st.Error != "":
		return fmt.Sprintf("not synced after %d polls of %s (%d failed): %s; check timesvc.server", st.Polls, st.Server, st.Failures, st.Error)
	}
	return fmt.Sprintf("not synced yet from %s (%d polls)", st.Server, st.Polls)
}

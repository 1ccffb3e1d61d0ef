package sipaccount

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/oemkit/messenger/feature/kerberos"
	"github.com/oemkit/messenger/feature/timesvc"
)

// explain adds what the user needs to act on a failure: a clock skew
// error's advice becomes the time service's state, so the user can tell
// whether to wait for it, fix its server, or add it to the design.
func (a *Account) explain(err error) error {
	var se *kerberos.SkewError
	if !errors.As(err, &se) || se.Advice != "" {
		return err
	}
	// The wrapping errors keep the text they were made with: replace the
	// skew error's part of it.
	old := se.Error()
	se.Advice = "time service: " + TimeState(a.cfg.TimeStatus, time.Now())
	return &explained{msg: strings.Replace(err.Error(), old, se.Error(), 1), err: err}
}

// explained is err with a better text.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// TimeState describes the time service's status file at path in words.
func TimeState(path string, now time.Time) string {
	st, err := timesvc.ReadStatus(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("no status in %s yet: it has had no answer from its server (timesvc.server), or SYSGEN_TIMESVC is not in the design", path)
	case err != nil:
		return err.Error()
	case st.Synced && !st.LastSync.IsZero():
		return fmt.Sprintf("synced from %s %s ago (last offset %s, %d steps); if the skew persists, the KDC's or SIP server's clock is wrong",
			st.Server, now.Sub(st.LastSync).Round(time.Second), st.Offset, st.Steps)
	case st.Error != "":
		return fmt.Sprintf("not synced after %d polls of %s (%d failed): %s; check timesvc.server", st.Polls, st.Server, st.Failures, st.Error)
	}
	return fmt.Sprintf("not synced yet from %s (%d polls)", st.Server, st.Polls)
}

package timesvc

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// SystemClock is the device's clock: CLOCK_REALTIME, stepped with
// clock_settime and slewed with adjtimex (ADJ_OFFSET_SINGLESHOT, the
// adjtime(3) call: the kernel runs the clock up to 500 ppm fast or slow
// until the offset is gone). Both need CAP_SYS_TIME.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Step moves CLOCK_REALTIME by d.
func (SystemClock) Step(d time.Duration) error {
	ts, err := unix.TimeToTimespec(time.Now().Add(d))
	if err != nil {
		return fmt.Errorf("timesvc: step the clock by %v: %w", d, err)
	}
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return fmt.Errorf("timesvc: step the clock by %v: clock_settime: %w (the service needs CAP_SYS_TIME)", d, err)
	}
	return nil
}

// maxSlew is the largest offset adjtime accepts in one call.
const maxSlew = 2145 * time.Second

// Slew asks the kernel to gain (or lose) d gradually; it replaces any slew
// still in progress.
func (SystemClock) Slew(d time.Duration) error {
	if d > maxSlew || d < -maxSlew {
		return fmt.Errorf("timesvc: slew by %v: more than adjtime's %v; step instead", d, maxSlew)
	}
	tx := unix.Timex{Modes: unix.ADJ_OFFSET_SINGLESHOT, Offset: d.Microseconds()}
	if _, err := unix.Adjtimex(&tx); err != nil {
		return fmt.Errorf("timesvc: slew the clock by %v: adjtimex: %w (the service needs CAP_SYS_TIME)", d, err)
	}
	return nil
}

package timesvc

import (
	"github.com/oemkit/messenger/feature/settings"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Defaults of the service's settings.
const (
	// DefaultMinPoll and DefaultMaxPoll bound the poll interval. The
	// interval starts at the minimum, doubles after each poll that found
	// the clock within the step threshold and returns to the minimum after
	// a step (RFC 5905's 64 s to 1024 s).
	DefaultMinPoll = 64 * time.Second
	DefaultMaxPoll = 1024 * time.Second
	// DefaultStepThreshold is the offset above which the clock is stepped
	// at once; smaller offsets are slewed (the kernel changes the clock
	// rate by at most 500 ppm until the offset is gone). 128 ms is ntpd's
	// and chrony's step threshold.
	DefaultStepThreshold = 128 * time.Millisecond
	// FloorPoll is the shortest poll interval allowed: RFC 4330 section 10
	// forbids polling a server more often than every 15 seconds.
	FloorPoll = 16 * time.Second
	// DenyBackoff is how long the service waits after a DENY or RSTR
	// kiss-o'-death before it asks the server again.
	DenyBackoff = time.Hour
	// StatusPath is where the device's time service writes its status.
	StatusPath = "/run/timesvc/status.json"
	// Marker starts the console line the service prints when it corrects
	// the clock, followed by the status as JSON.
	Marker = "DEVICE-CLOCK"
)

// startBurst is the number of requests of the burst at start and after a
// step, startGap the time between them; later polls send pollBurst requests
// pollGap apart. Each burst uses the sample with the smallest round trip.
const (
	startBurst = 4
	startGap   = 250 * time.Millisecond
	pollBurst  = 2
	pollGap    = 2 * time.Second
)

// Config is what the service needs; ConfigFromSettings fills it from the
// device's settings.
type Config struct {
	// Server is the SNTP server, host or host:port (timesvc.server).
	Server string
	// MinPoll and MaxPoll bound the poll interval (timesvc.poll_min,
	// timesvc.poll_max); zero means the default.
	MinPoll, MaxPoll time.Duration
	// StepThreshold: offsets beyond it are stepped, others slewed
	// (timesvc.step_threshold); zero means the default.
	StepThreshold time.Duration
	// Timeout bounds one request; zero means DefaultTimeout.
	Timeout time.Duration
	// StatusPath is written after every poll; "" writes none.
	StatusPath string
	// Clock is measured and corrected; nil means the system clock.
	Clock Clock
	// Log receives one line per poll and the Marker line per correction.
	Log io.Writer

	// fast lets tests poll below FloorPoll.
	fast bool
}

// Status is what the service reports after every poll: the file at
// StatusPath, and the JSON of the Marker console line.
type Status struct {
	// Server is the server polled (host:port).
	Server string `json:"server"`
	// Synced is true once the clock has been set from the server and the
	// last successful poll is not older than three poll intervals.
	Synced bool `json:"synced"`
	// Action is what the last successful poll did: "step", "slew".
	Action string `json:"action,omitempty"`
	// OffsetNS is the offset the last successful poll measured and
	// corrected (server minus local clock, nanoseconds); Offset says it
	// for people.
	OffsetNS int64  `json:"offset_ns"`
	Offset   string `json:"offset"`
	// DelayNS is that poll's round-trip delay.
	DelayNS int64 `json:"delay_ns"`
	// Stratum and RefID describe the server's source.
	Stratum int    `json:"stratum,omitempty"`
	RefID   string `json:"refid,omitempty"`
	// LastSync is the (corrected) local time of the last successful poll.
	LastSync time.Time `json:"last_sync,omitzero"`
	// BootOffsetNS is the offset the first successful poll corrected,
	// and FirstSyncMS the time from service start until the clock was
	// set (stepped or the slew started).
	BootOffsetNS int64 `json:"boot_offset_ns"`
	FirstSyncMS  int64 `json:"first_sync_ms"`
	// Verified is true when a burst sent right after a step measured the
	// clock again; VerifyOffsetNS is what it found (then slewed away).
	Verified       bool  `json:"verified"`
	VerifyOffsetNS int64 `json:"verify_offset_ns"`
	// Polls and Failures count polls since start; Steps and Slews the
	// corrections.
	Polls    int `json:"polls"`
	Failures int `json:"failures"`
	Steps    int `json:"steps"`
	Slews    int `json:"slews"`
	// PollS is the current poll interval in seconds.
	PollS int `json:"poll_s"`
	// Error is the last poll's error ("" when it succeeded).
	Error string `json:"error,omitempty"`
}

// MaxStatusSize bounds the status file ReadStatus accepts.
const MaxStatusSize = 64 << 10

// ParseStatus parses a status file.
func ParseStatus(b []byte) (*Status, error) {
	if len(b) > MaxStatusSize {
		return nil, fmt.Errorf("timesvc: status is %d bytes, more than %d", len(b), MaxStatusSize)
	}
	var s Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("timesvc: status: %w", err)
	}
	return &s, nil
}

// ReadStatus reads the service's status file (StatusPath on the device). A
// missing file means the service has not polled yet, or is not in the design
// (SYSGEN_TIMESVC).
func ReadStatus(path string) (*Status, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("timesvc: no status at %s: the time service has not polled yet or is not in the design (SYSGEN_TIMESVC): %w", path, err)
		}
		return nil, fmt.Errorf("timesvc: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxStatusSize+1))
	if err != nil {
		return nil, fmt.Errorf("timesvc: %s: %w", path, err)
	}
	s, err := ParseStatus(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return s, nil
}

// writeStatus replaces the status file atomically.
func writeStatus(path string, s *Status) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".status-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(append(b, '\n'))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Server == "" {
		return errors.New("timesvc: no server: set timesvc.server (host or host:port) in the design's [settings]")
	}
	if c.MinPoll == 0 {
		c.MinPoll = DefaultMinPoll
	}
	if c.MaxPoll == 0 {
		c.MaxPoll = max(DefaultMaxPoll, c.MinPoll)
	}
	if c.StepThreshold == 0 {
		c.StepThreshold = DefaultStepThreshold
	}
	if c.MinPoll < FloorPoll && !c.fast {
		return fmt.Errorf("timesvc: timesvc.poll_min = %v is below %v: SNTP clients must not poll a server more often (RFC 4330)", c.MinPoll, FloorPoll)
	}
	if c.MaxPoll < c.MinPoll {
		return fmt.Errorf("timesvc: timesvc.poll_max = %v is below timesvc.poll_min = %v", c.MaxPoll, c.MinPoll)
	}
	if c.StepThreshold < 0 {
		return fmt.Errorf("timesvc: timesvc.step_threshold = %v is negative", c.StepThreshold)
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}

// ConfigFromSettings reads the service's keys from the device's settings
// through the typed loader: timesvc.server (string), timesvc.poll_min and
// timesvc.poll_max (durations), timesvc.step_threshold (duration). Keys the
// file does not hold keep their defaults.
func ConfigFromSettings(f *settings.File) (Config, error) {
	var c Config
	var err error
	if c.Server, err = f.Text("timesvc.server"); err != nil && !settings.IsUnset(err) {
		return c, err
	}
	duration := func(key string, v time.Duration, err error, dst *time.Duration) error {
		switch {
		case settings.IsUnset(err):
		case err != nil:
			return err
		case v > MaxPollLimit:
			return fmt.Errorf("timesvc: %s = %v is more than %v", key, v, MaxPollLimit)
		default:
			*dst = v
		}
		return nil
	}
	v, err := f.Duration("timesvc.poll_min")
	if err := duration("timesvc.poll_min", v, err, &c.MinPoll); err != nil {
		return c, err
	}
	v, err = f.Duration("timesvc.poll_max")
	if err := duration("timesvc.poll_max", v, err, &c.MaxPoll); err != nil {
		return c, err
	}
	v, err = f.Duration("timesvc.step_threshold")
	if err := duration("timesvc.step_threshold", v, err, &c.StepThreshold); err != nil {
		return c, err
	}
	return c, nil
}

// MaxPollLimit bounds the durations in the settings (36 h).
const MaxPollLimit = 36 * time.Hour

// Service keeps a clock set from one SNTP server.
type Service struct {
	cfg    Config
	status Status
	start  time.Time
	poll   time.Duration
}

// New checks cfg and returns a service.
func New(cfg Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, status: Status{Server: ServerAddr(cfg.Server)}, poll: cfg.MinPoll}, nil
}

// Status returns the status after the last poll.
func (s *Service) Status() Status { return s.status }

// Run polls until ctx ends: a burst at start, retried with a growing delay
// (1 s doubling up to the minimum poll interval) until the first success,
// then one poll per interval.
func (s *Service) Run(ctx context.Context) error {
	s.start = time.Now()
	retry := time.Second
	for {
		wait, err := s.Poll(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && s.status.Steps+s.status.Slews == 0 && wait == 0 {
			wait = retry
			retry = min(2*retry, s.cfg.MinPoll)
		}
		if wait == 0 {
			wait = s.poll
		}
		s.status.PollS = int(wait.Round(time.Second) / time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Poll asks the server, corrects the clock, writes the status and logs a
// line. The first successful poll sets the clock from the first good reply
// (a step when it is off by more than the threshold), then sends a burst
// and slews what is left, so the clock is set one round trip after the
// server answers. Later polls send a short burst and keep the sample with
// the smallest round trip; a step is checked by another burst. Poll returns
// a wait the server asked for (kiss-o'-death), else 0, and the poll's error.
func (s *Service) Poll(ctx context.Context) (time.Duration, error) {
	if s.start.IsZero() {
		s.start = time.Now()
	}
	st := &s.status
	st.Polls++
	var err error
	if st.Steps+st.Slews == 0 {
		err = s.firstPoll(ctx)
	} else {
		var smp Sample
		smp, _, err = Best(ctx, s.cfg.Server, s.cfg.Clock.Now, pollBurst, pollGap, s.cfg.Timeout)
		if err == nil {
			err = s.correct(ctx, smp)
		}
	}
	var wait time.Duration
	if err != nil {
		if ctx.Err() != nil {
			return 0, err
		}
		st.Failures++
		st.Error = err.Error()
		var kod *KissError
		if errors.As(err, &kod) {
			if kod.Stop() {
				wait = DenyBackoff
			} else {
				s.poll = min(2*s.poll, s.cfg.MaxPoll)
				wait = s.poll
			}
		}
		if !st.LastSync.IsZero() && s.cfg.Clock.Now().Sub(st.LastSync) > 3*s.cfg.MaxPoll {
			st.Synced = false
		}
		fmt.Fprintf(s.cfg.Log, "timesvc: poll %s failed: %v\n", st.Server, err)
	}
	s.save()
	return wait, err
}

// firstPoll sets the clock at start.
func (s *Service) firstPoll(ctx context.Context) error {
	smp, err := Query(ctx, s.cfg.Server, s.cfg.Clock.Now, s.cfg.Timeout)
	if err != nil {
		return err
	}
	if abs := absDuration(smp.Offset); abs <= s.cfg.StepThreshold {
		// Close enough already: slew, from the best of a burst.
		best, _, err := Best(ctx, s.cfg.Server, s.cfg.Clock.Now, startBurst-1, startGap, s.cfg.Timeout)
		if err != nil || best.Delay > smp.Delay {
			best = smp
		}
		return s.correct(ctx, best)
	}
	return s.correct(ctx, smp)
}

// correct applies one sample to the clock and updates the status.
func (s *Service) correct(ctx context.Context, smp Sample) error {
	st := &s.status
	first := st.Steps+st.Slews == 0
	action := "slew"
	if absDuration(smp.Offset) > s.cfg.StepThreshold {
		action = "step"
		if err := s.cfg.Clock.Step(smp.Offset); err != nil {
			return err
		}
		st.Steps++
		s.poll = s.cfg.MinPoll
	} else {
		if err := s.cfg.Clock.Slew(smp.Offset); err != nil {
			return err
		}
		st.Slews++
		s.poll = min(2*s.poll, s.cfg.MaxPoll)
	}
	if first {
		st.BootOffsetNS = int64(smp.Offset)
		st.FirstSyncMS = time.Since(s.start).Milliseconds()
	}
	st.Synced = true
	st.Action = action
	st.OffsetNS = int64(smp.Offset)
	st.Offset = smp.Offset.String()
	st.DelayNS = int64(smp.Delay)
	st.Stratum = int(smp.Reply.Stratum)
	st.RefID = refID(smp.Reply)
	st.Error = ""
	st.PollS = int(s.poll / time.Second)
	var err error
	if action == "step" {
		err = s.verify(ctx)
	}
	st.LastSync = s.cfg.Clock.Now()
	if first || action == "step" {
		b, _ := json.Marshal(st)
		fmt.Fprintf(s.cfg.Log, "%s %s\n", Marker, b)
	}
	fmt.Fprintf(s.cfg.Log, "timesvc: %s offset %v delay %v stratum %d: %s; next poll in %v\n",
		st.Server, smp.Offset, smp.Delay, smp.Reply.Stratum, action, s.poll)
	return err
}

// verify measures the clock again after a step, with a burst: the step must
// have taken (the new offset within the threshold); what is left is slewed.
// A check that gets no answer is not an error (the step stands), it only
// leaves Verified false.
func (s *Service) verify(ctx context.Context) error {
	st := &s.status
	st.Verified, st.VerifyOffsetNS = false, 0
	v, _, err := Best(ctx, s.cfg.Server, s.cfg.Clock.Now, startBurst, startGap, s.cfg.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(s.cfg.Log, "timesvc: check after the step: %v\n", err)
		return nil
	}
	st.Verified, st.VerifyOffsetNS = true, int64(v.Offset)
	if absDuration(v.Offset) > s.cfg.StepThreshold {
		st.Synced = false
		return fmt.Errorf("timesvc: the clock did not take the step: still %v off %s", v.Offset, st.Server)
	}
	return s.cfg.Clock.Slew(v.Offset)
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (s *Service) save() {
	if s.cfg.StatusPath == "" {
		return
	}
	if err := writeStatus(s.cfg.StatusPath, &s.status); err != nil {
		fmt.Fprintf(s.cfg.Log, "timesvc: write status: %v\n", err)
	}
}

// refID formats the reference id: ASCII for stratum 1, else an IPv4 address.
func refID(r *Reply) string {
	id := r.RefID
	if r.Stratum == 1 {
		out := make([]byte, 0, 4)
		for _, c := range id {
			if c == 0 {
				break
			}
			if c < 0x20 || c > 0x7e {
				c = '?'
			}
			out = append(out, c)
		}
		return string(out)
	}
	return fmt.Sprintf("%d.%d.%d.%d", id[0], id[1], id[2], id[3])
}

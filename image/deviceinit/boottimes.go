package main

import "time"

// bootPhase is one step of the device init between its start and
// DEVICE-READY, for the boot-time breakdown `sysgen boot --check` prints.
type bootPhase struct {
	Name string `json:"name"`
	MS   int64  `json:"ms"`
}

// bootClock records the phases in order: each lap is the time since the
// previous one (or since the clock was made).
type bootClock struct {
	last   time.Time
	phases []bootPhase
}

func newBootClock() *bootClock { return &bootClock{last: time.Now(), phases: []bootPhase{}} }

func (c *bootClock) lap(name string) {
	now := time.Now()
	c.phases = append(c.phases, bootPhase{Name: name, MS: now.Sub(c.last).Milliseconds()})
	c.last = now
}

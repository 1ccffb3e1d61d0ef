// Package inittime records how long each driver's Init took, so the device
// init can report it in the boot-time breakdown (`sysgen boot --check`).
// Each driver's Init starts with
//
//	defer inittime.Since(d.String(), time.Now())
package inittime

import (
	"sync"
	"time"
)

var (
	mu   sync.Mutex
	took = map[string]time.Duration{}
)

// Since records the time since start as the Init time of the named driver.
func Since(name string, start time.Time) {
	d := time.Since(start)
	mu.Lock()
	took[name] = d
	mu.Unlock()
}

// All returns a copy of the recorded Init times by driver name.
func All() map[string]time.Duration {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]time.Duration, len(took))
	for k, v := range took {
		out[k] = v
	}
	return out
}

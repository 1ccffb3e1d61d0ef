package input

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Source is one event from one device.
type Source struct {
	Device string // /dev/input/eventN
	Event
}

// Open reads every /dev/input/event* under devDir until ctx ends and
// sends their events on the returned channel.
func Open(ctx context.Context, devDir string) (<-chan Source, []string, error) {
	paths, _ := filepath.Glob(filepath.Join(devDir, "input", "event*"))
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, nil, fmt.Errorf("input: no event devices in %s/input (is the input driver bound?)", devDir)
	}
	out := make(chan Source, 64)
	var files []*os.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		files = append(files, f)
		go func(p string, f *os.File) {
			buf := make([]byte, EventSize*32)
			var rest []byte
			for {
				n, err := f.Read(buf)
				if err != nil {
					return
				}
				evs, r := ParseEvents(append(rest, buf[:n]...))
				rest = append(rest[:0], r...)
				for _, e := range evs {
					select {
					case out <- Source{Device: p, Event: e}:
					case <-ctx.Done():
						return
					}
				}
			}
		}(p, f)
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("input: cannot open any of %v", paths)
	}
	go func() {
		<-ctx.Done()
		for _, f := range files {
			f.Close()
		}
	}()
	return out, paths, nil
}

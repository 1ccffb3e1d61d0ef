package image

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
)

// progress reports long steps. On a terminal the current step shows a live
// elapsed-time counter; elsewhere (CI logs) each step is one plain line.
type progress struct {
	w     io.Writer
	tty   bool
	mu    sync.Mutex
	name  string
	start time.Time
	stop  chan struct{}
	done  chan struct{}
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p.tty = true
	}
	return p
}

// Step ends the current step and starts a new one.
func (p *progress) Step(format string, a ...any) {
	if p == nil {
		return
	}
	p.End()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.name = fmt.Sprintf(format, a...)
	p.start = time.Now()
	if !p.tty {
		fmt.Fprintln(p.w, p.name)
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s ...", p.name)
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go p.tick(p.stop, p.done)
}

func (p *progress) tick(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.mu.Lock()
			fmt.Fprintf(p.w, "\r\033[K%s ... %.1fs", p.name, time.Since(p.start).Seconds())
			p.mu.Unlock()
		}
	}
}

// End finishes the current step, if any.
func (p *progress) End() {
	if p == nil {
		return
	}
	p.mu.Lock()
	stop, done, name := p.stop, p.done, p.name
	p.stop, p.done, p.name = nil, nil, ""
	p.mu.Unlock()
	if name == "" {
		return
	}
	if stop != nil {
		close(stop)
		<-done
	}
	d := time.Since(p.start).Round(10 * time.Millisecond)
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "%s: done in %v\n", name, d)
}

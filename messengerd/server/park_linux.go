package server

import (
	"sync"
	"syscall"
)

// poller watches parked connections with an epoll instance of its own, so
// that an idle signed-in session holds no goroutine (and no stack) at all:
// the session's goroutine ends when it parks, and a new one is started when
// the client sends something or the connection is closed.
//
// The Go runtime keeps its own (edge-triggered) registration of each socket;
// this one is level-triggered and one-shot, armed only while the
// connection is parked. Events carry a token, never the descriptor alone,
// so a descriptor number reused by a later connection is never mistaken for
// a parked one.
type poller struct {
	epfd int
	wake int // eventfd that stops the loop

	mu     sync.Mutex
	parked map[uint64]*conn
	next   uint64
	closed bool
}

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	r, _, e := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if e != 0 {
		syscall.Close(epfd)
		return nil, e
	}
	wake := int(r)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, wake, &ev); err != nil {
		syscall.Close(epfd)
		syscall.Close(wake)
		return nil, err
	}
	p := &poller{epfd: epfd, wake: wake, parked: map[uint64]*conn{}, next: 1}
	go p.loop()
	return p, nil
}

// park arms c; false means it could not be parked (closed, or the socket
// cannot be watched) and the caller goes on reading it. Caller holds c.pmu.
func (p *poller) park(c *conn) bool {
	// p.mu is held across the epoll_ctl so that stop cannot close the
	// epoll descriptor (whose number may then be reused) in between.
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if c.token == 0 {
		c.token = p.next
		p.next++
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT,
		Fd: int32(uint32(c.token)), Pad: int32(uint32(c.token >> 32))}
	op := syscall.EPOLL_CTL_MOD
	if !c.registered {
		op = syscall.EPOLL_CTL_ADD
	}
	var cerr error
	err := c.raw.Control(func(fd uintptr) { cerr = syscall.EpollCtl(p.epfd, op, int(fd), &ev) })
	if err == nil && cerr != nil && op == syscall.EPOLL_CTL_MOD {
		// The registration was dropped (it cannot be while the socket is
		// open, but be safe): add it again.
		err = c.raw.Control(func(fd uintptr) { cerr = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, int(fd), &ev) })
	}
	if err == nil {
		err = cerr
	}
	if err != nil {
		return false
	}
	p.parked[c.token] = c
	c.registered = true
	return true
}

func (p *poller) forget(c *conn) {
	p.mu.Lock()
	delete(p.parked, c.token)
	p.mu.Unlock()
}

func (p *poller) loop() {
	evs := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, evs, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			n = 0
		}
		for _, ev := range evs[:max(n, 0)] {
			token := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if token == 0 { // the eventfd: stop (p.closed is set)
				syscall.Close(p.epfd)
				syscall.Close(p.wake)
				return
			}
			p.mu.Lock()
			c := p.parked[token]
			p.mu.Unlock()
			if c != nil {
				c.unpark()
			}
		}
	}
}

// stop ends the loop; connections still parked are closed by Shutdown.
func (p *poller) stop() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	one := [8]byte{1}
	syscall.Write(p.wake, one[:])
}

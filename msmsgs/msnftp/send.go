package msnftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrTimeout: the peer did not connect or answer in time (Cancel-Code FTTIMEOUT).
var ErrTimeout = errors.New("file transfer timed out")

// maxBadConnections bounds the wrong-cookie or garbage connections a sender
// tolerates while it waits for its receiver.
const maxBadConnections = 5

// Sender serves offered files to receivers that accepted them. One Sender
// (and its Ports) is shared by all transfers of a signed-in user.
type Sender struct {
	// Ports is the port range all transfers share (required).
	Ports *Ports
	// Address is the IP-Address put in the ACCEPT: the address of this
	// host that the receiver can reach (e.g. the switchboard socket's
	// local address). Required.
	Address string
	// PortWait is how long Listen waits when all ports are busy:
	// 0 means DefaultPortWait, negative means fail at once.
	PortWait time.Duration
	// AcceptTimeout is how long Serve waits for the receiver to connect
	// (0: DefaultAcceptTimeout).
	AcceptTimeout time.Duration
	// IdleTimeout bounds every wait for the connected receiver (0:
	// DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Notify, if set, receives the events of all transfers. It is called
	// from the transfer's goroutine and must not block for long.
	Notify func(Event)
}

// Listener is one offered file whose receiver accepted: a port is held and
// listens until Serve ends or Close is called.
type Listener struct {
	s      *Sender
	offer  *Invitation
	ln     net.Listener
	port   int
	auth   uint32
	once   sync.Once
	closed error
}

func (s *Sender) notify(e Event) {
	if s.Notify != nil {
		s.Notify(e)
	}
}

// Listen takes the first free port of s.Ports for the transfer of offer
// and listens on it. When every port is busy it reports
// EventWaitingForPort and waits (see PortWait); it fails with ErrNoFreePort
// when the wait ends. Send l.Accept() to the receiver, then call l.Serve.
func (s *Sender) Listen(ctx context.Context, offer *Invitation) (*Listener, error) {
	if s.Ports == nil || s.Address == "" {
		return nil, errors.New("msnftp: sender: Ports and Address must be set")
	}
	if offer == nil || !offer.IsFileTransfer() {
		return nil, errors.New("msnftp: sender: offer is not a file transfer INVITE; make it with NewOffer")
	}
	wait := orDefault(s.PortWait, DefaultPortWait)
	ln, port, err := s.Ports.listen(ctx, wait, func() {
		s.notify(Event{Kind: EventWaitingForPort, Cookie: offer.Cookie,
			Detail: fmt.Sprintf("all file transfer ports %s are busy; waiting up to %v for one to be free", s.Ports.Range(), wait)})
	})
	if err != nil {
		s.notify(Event{Kind: EventFailed, Cookie: offer.Cookie, Err: err, Detail: err.Error()})
		return nil, err
	}
	l := &Listener{s: s, offer: offer, ln: ln, port: port, auth: NewCookie()}
	s.notify(Event{Kind: EventListening, Cookie: offer.Cookie, Port: port, Total: offer.FileSize})
	return l, nil
}

// Port returns the listening port.
func (l *Listener) Port() int { return l.port }

// Accept returns the sender's ACCEPT to send in the conversation: it gives
// the receiver IP-Address, Port and AuthCookie.
func (l *Listener) Accept() *Invitation {
	return &Invitation{
		Command:           CommandAccept,
		Cookie:            l.offer.Cookie,
		IPAddress:         l.s.Address,
		Port:              l.port,
		AuthCookie:        l.auth,
		HasAuthCookie:     true,
		LaunchApplication: "FALSE",
		RequestData:       "IP-Address:",
	}
}

// Close stops listening and releases the port. It is safe to call more
// than once and after Serve.
func (l *Listener) Close() error {
	l.once.Do(func() {
		if err := l.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			l.closed = err
		}
		l.s.Ports.release(l.port)
	})
	return l.closed
}

// Serve waits for the receiver to connect, checks its AuthCookie and sends
// exactly offer.FileSize bytes read from file. Connections with a wrong
// cookie are closed (EventRefused) and Serve keeps waiting. It returns nil
// once the receiver confirmed with BYE 16777989, ErrCancelled if the
// receiver cancelled, ErrTimeout if it did not connect in time, or the
// context's error after cancelling the transfer with a cancel block. The
// port is released when Serve returns. A regular *os.File is sent from its
// current offset straight from the page cache (mmap and writev, no read
// copy) and is left positioned after the bytes sent.
func (l *Listener) Serve(ctx context.Context, file io.Reader) (err error) {
	defer l.Close()
	s := l.s
	defer func() {
		if err != nil {
			s.notify(Event{Kind: EventFailed, Cookie: l.offer.Cookie, Err: err, Detail: err.Error()})
		}
	}()
	conn, br, err := l.acceptReceiver(ctx)
	if err != nil {
		return err
	}
	// The port stays reserved in Ports until Close; no further connections.
	l.ln.Close()
	defer conn.Close()
	s.notify(Event{Kind: EventConnected, Cookie: l.offer.Cookie, Total: l.offer.FileSize})
	if err := l.sendData(ctx, conn, br, file); err != nil {
		return err
	}
	s.notify(Event{Kind: EventDone, Cookie: l.offer.Cookie, Bytes: l.offer.FileSize, Total: l.offer.FileSize})
	return nil
}

// acceptReceiver accepts connections until one completes the handshake up
// to TFR with the right cookie. Handshakes run concurrently (at most
// maxBadConnections at once), so a silent or slow connection cannot hold
// up the real receiver.
func (l *Listener) acceptReceiver(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	s := l.s
	name := l.offer.FileName
	timeout := orDefault(s.AcceptTimeout, DefaultAcceptTimeout)
	deadline := time.Now().Add(timeout)
	type deadliner interface{ SetDeadline(time.Time) error }
	if dl, ok := l.ln.(deadliner); ok {
		dl.SetDeadline(deadline)
	}
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { l.ln.Close() })
	defer stop()

	type result struct {
		conn net.Conn
		br   *bufio.Reader
		err  error
		acc  bool // err is from Accept
	}
	results := make(chan result)
	slots := make(chan struct{}, maxBadConnections)
	go func() {
		for {
			select {
			case slots <- struct{}{}:
			case <-hctx.Done():
				return
			}
			conn, err := l.ln.Accept()
			if err != nil {
				select {
				case results <- result{err: err, acc: true}:
				case <-hctx.Done():
				}
				return
			}
			go func() {
				defer func() { <-slots }()
				br, err := l.handshake(hctx, conn, deadline)
				select {
				case results <- result{conn: conn, br: br, err: err}:
				case <-hctx.Done():
					conn.Close()
				}
			}()
		}
	}()

	bad := 0
	for {
		var r result
		select {
		case r = <-results:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("msnftp: send %q: %w", name, ctx.Err())
		}
		if r.err == nil {
			return r.conn, r.br, nil
		}
		if r.conn != nil {
			r.conn.Close()
		}
		switch {
		case ctx.Err() != nil:
			return nil, nil, fmt.Errorf("msnftp: send %q: %w", name, ctx.Err())
		case r.acc:
			var ne net.Error
			if errors.As(r.err, &ne) && ne.Timeout() {
				return nil, nil, fmt.Errorf("msnftp: send %q: %w: the receiver did not connect to port %d within %v; check that the port range %s is open in the firewall",
					name, ErrTimeout, l.port, timeout, s.Ports.Range())
			}
			return nil, nil, fmt.Errorf("msnftp: send %q: accept: %w", name, r.err)
		case errors.Is(r.err, ErrCancelled):
			return nil, nil, fmt.Errorf("msnftp: send %q: %w", name, r.err)
		}
		s.notify(Event{Kind: EventRefused, Cookie: l.offer.Cookie, Err: r.err,
			Detail: fmt.Sprintf("closed connection from %s: %v", r.conn.RemoteAddr(), r.err)})
		bad++
		if bad >= maxBadConnections {
			return nil, nil, fmt.Errorf("msnftp: send %q: %d bad connections, last: %w", name, bad, r.err)
		}
	}
}

// handshake runs VER / USR / FIL / TFR on the sender side.
func (l *Listener) handshake(ctx context.Context, conn net.Conn, deadline time.Time) (*bufio.Reader, error) {
	idle := orDefault(l.s.IdleTimeout, DefaultIdleTimeout)
	if d := time.Now().Add(idle); d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	it := interruptOn(ctx, conn)
	defer it.release()
	br := bufio.NewReader(conn)
	line, err := readLine(br)
	if err != nil {
		return nil, fmt.Errorf("read VER: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "VER" || !hasField(f[1:], "MSNFTP") {
		return nil, fmt.Errorf("%w: want VER MSNFTP, got %.40q", ErrProtocol, line)
	}
	if _, err := io.WriteString(conn, "VER MSNFTP\r\n"); err != nil {
		return nil, err
	}
	if line, err = readLine(br); err != nil {
		return nil, fmt.Errorf("read USR: %w", err)
	}
	f = strings.Fields(line)
	if len(f) != 3 || f[0] != "USR" {
		return nil, fmt.Errorf("%w: want USR email cookie, got %.40q", ErrProtocol, line)
	}
	if c, err := parseCookie(f[2]); err != nil || c != l.auth {
		return nil, fmt.Errorf("%w from %s", ErrAuth, f[1])
	}
	if _, err := fmt.Fprintf(conn, "FIL %d\r\n", l.offer.FileSize); err != nil {
		return nil, err
	}
	if line, err = readLine(br); err != nil {
		return nil, fmt.Errorf("read TFR: %w", err)
	}
	switch line {
	case "TFR":
	case "CCL":
		return nil, ErrCancelled
	default:
		return nil, fmt.Errorf("%w: want TFR, got %.40q", ErrProtocol, line)
	}
	it.release()
	conn.SetDeadline(time.Time{})
	return br, nil
}

func hasField(f []string, want string) bool {
	for _, s := range f {
		if s == want {
			return true
		}
	}
	return false
}

// peerLine is one line the receiver sent during the data phase.
type peerLine struct {
	line string
	err  error
}

// sendData streams the file as blocks and waits for the receiver's BYE.
func (l *Listener) sendData(ctx context.Context, conn net.Conn, br *bufio.Reader, file io.Reader) error {
	idle := orDefault(l.s.IdleTimeout, DefaultIdleTimeout)
	total := l.offer.FileSize
	name := l.offer.FileName
	lines := make(chan peerLine, 1)
	go func() {
		line, err := readLine(br)
		lines <- peerLine{line, err}
	}()
	it := interruptOn(ctx, conn)
	defer it.release()

	// cancel transmits the cancel block and closes; used on our failures.
	cancel := func(cause error) error {
		it.release()
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write(cancelBlock)
		conn.Close()
		return cause
	}
	// peer interprets a line (or read error) from the receiver.
	peer := func(pl peerLine, sent int64) error {
		if pl.err != nil {
			if ctx.Err() != nil {
				return cancel(fmt.Errorf("msnftp: send %q: %w", name, ctx.Err()))
			}
			return fmt.Errorf("msnftp: send %q: receiver went away after %d of %d bytes: %w", name, sent, total, pl.err)
		}
		f := strings.Fields(pl.line)
		switch {
		case len(f) == 1 && f[0] == "CCL":
			return fmt.Errorf("msnftp: send %q: %w after %d of %d bytes", name, ErrCancelled, sent, total)
		case len(f) == 2 && f[0] == "BYE" && f[1] == strconv.Itoa(ByeReceived) && sent == total:
			return nil
		case len(f) == 2 && f[0] == "BYE":
			return fmt.Errorf("msnftp: send %q: receiver ended with BYE %s after %d of %d bytes: %w", name, f[1], sent, total, ErrCancelled)
		}
		return fmt.Errorf("msnftp: send %q: %w: unexpected %.40q from receiver", name, ErrProtocol, pl.line)
	}

	enc := newBlockEncoder(encBlocks)
	mf := mapFile(file, total)
	if mf != nil {
		defer mf.close()
	}
	var sent int64
	for sent < total {
		select {
		case pl := <-lines:
			if err := peer(pl, sent); err != nil {
				return err
			}
			return fmt.Errorf("msnftp: send %q: %w: receiver said BYE before the end", name, ErrProtocol)
		default:
		}
		var out *net.Buffers
		var n int
		var err error
		if mf != nil {
			var data []byte
			n = int(min(int64(encBlocks*MaxBlock), total-sent))
			if data, err = mf.next(n); err == nil {
				out = enc.frameSlice(data)
			}
		} else {
			out, n, err = enc.frame(file, total-sent)
		}
		if err != nil {
			return cancel(fmt.Errorf("msnftp: send %q: read file after %d of %d bytes: %w", name, sent, total, err))
		}
		conn.SetWriteDeadline(time.Now().Add(idle))
		if ctx.Err() != nil { // checked after the deadline: the interrupter may have fired before it
			return cancel(fmt.Errorf("msnftp: send %q: %w", name, ctx.Err()))
		}
		if _, err := out.WriteTo(conn); err != nil {
			if ctx.Err() != nil {
				return cancel(fmt.Errorf("msnftp: send %q: %w", name, ctx.Err()))
			}
			if errors.Is(err, syscall.EFAULT) { // the mapped file shrank
				return cancel(fmt.Errorf("msnftp: send %q: file changed while sending after %d of %d bytes: %w", name, sent, total, err))
			}
			// The receiver may have cancelled; its CCL explains the error.
			t := time.NewTimer(time.Second)
			defer t.Stop()
			select {
			case pl := <-lines:
				if perr := peer(pl, sent); perr != nil {
					return perr
				}
			case <-t.C:
			}
			return fmt.Errorf("msnftp: send %q: write after %d of %d bytes: %w", name, sent, total, err)
		}
		sent += int64(n)
		l.s.notify(Event{Kind: EventProgress, Cookie: l.offer.Cookie, Bytes: sent, Total: total})
	}
	conn.SetReadDeadline(time.Now().Add(idle))
	if ctx.Err() != nil {
		return cancel(fmt.Errorf("msnftp: send %q: %w", name, ctx.Err()))
	}
	pl := <-lines
	if pl.err != nil {
		var ne net.Error
		if errors.As(pl.err, &ne) && ne.Timeout() && ctx.Err() == nil {
			return fmt.Errorf("msnftp: send %q: %w: no BYE from the receiver within %v", name, ErrTimeout, idle)
		}
	}
	return peer(pl, sent)
}

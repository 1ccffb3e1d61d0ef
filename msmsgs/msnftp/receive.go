package msnftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Receiver errors for offers that must be refused before any byte is written.
var (
	// ErrTooLarge: the offered size exceeds Receiver.MaxSize.
	ErrTooLarge = errors.New("file too large")
	// ErrNoSpace: the offered size exceeds the free space of the folder.
	ErrNoSpace = errors.New("not enough free space")
)

// DefaultDialTimeout bounds the receiver's connection attempt.
const DefaultDialTimeout = 30 * time.Second

// Receiver receives offered files into one downloads folder.
type Receiver struct {
	// Email is this user's sign-in name, sent in USR.
	Email string
	// Dir is the downloads folder; files are only ever created in it.
	Dir string
	// MaxSize refuses offers larger than this many bytes (0: no limit
	// besides free space).
	MaxSize int64
	// FreeSpace returns the bytes free in a folder; nil uses statfs.
	FreeSpace func(dir string) (int64, error)
	// DialTimeout bounds the connection to the sender (0: DefaultDialTimeout).
	DialTimeout time.Duration
	// IdleTimeout bounds every wait for the sender (0: DefaultIdleTimeout).
	IdleTimeout time.Duration
	// Notify, if set, receives the events of all transfers.
	Notify func(Event)
}

func (r *Receiver) notify(e Event) {
	if r.Notify != nil {
		r.Notify(e)
	}
}

// Check tells whether offer can be received: it must be a file transfer
// INVITE, no larger than MaxSize and than the folder's free space. Answer
// an offer that fails with Cancel(CancelReject).
func (r *Receiver) Check(offer *Invitation) error {
	if offer == nil || !offer.IsFileTransfer() {
		return fmt.Errorf("msnftp: receive: %w: not a file transfer INVITE", ErrInvitation)
	}
	return r.checkSize(offer.FileName, offer.FileSize)
}

func (r *Receiver) checkSize(name string, size int64) error {
	st, err := os.Stat(r.Dir)
	if err != nil {
		return fmt.Errorf("msnftp: receive: downloads folder: %w; create it or configure another one", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("msnftp: receive: downloads folder %s is not a directory", r.Dir)
	}
	if r.MaxSize > 0 && size > r.MaxSize {
		return fmt.Errorf("msnftp: receive %q: %w: %d bytes, the limit is %d bytes (raise the receive size limit to accept it)", name, ErrTooLarge, size, r.MaxSize)
	}
	fs := r.FreeSpace
	if fs == nil {
		fs = freeSpace
	}
	free, err := fs(r.Dir)
	if err != nil {
		return fmt.Errorf("msnftp: receive %q: %w", name, err)
	}
	if size > free {
		return fmt.Errorf("msnftp: receive %q: %w: %d bytes offered, %d bytes free in %s; free some space", name, ErrNoSpace, size, free, r.Dir)
	}
	return nil
}

// Receive connects to the sender named in its ACCEPT (accept, which must
// carry offer's cookie, an IP-Address, Port and AuthCookie) and writes the
// file into Dir under SafeName(offer.FileName), or a numbered variant of
// it. It returns the path of the complete file. On any failure, including
// cancellation by ctx (the sender gets CCL) or by the sender, no file is
// left behind.
func (r *Receiver) Receive(ctx context.Context, offer, accept *Invitation) (path string, err error) {
	cookie := uint32(0)
	if offer != nil {
		cookie = offer.Cookie
	}
	defer func() {
		if err != nil {
			r.notify(Event{Kind: EventFailed, Cookie: cookie, Err: err, Detail: err.Error()})
		}
	}()
	if err := r.Check(offer); err != nil {
		return "", err
	}
	if accept == nil || accept.Command != CommandAccept || accept.Cookie != offer.Cookie || !accept.HasAuthCookie {
		return "", fmt.Errorf("msnftp: receive %q: %w: want the sender's ACCEPT with this Invitation-Cookie and an AuthCookie", offer.FileName, ErrInvitation)
	}
	ip, err := netip.ParseAddr(accept.IPAddress)
	if err != nil || accept.Port == 0 {
		return "", fmt.Errorf("msnftp: receive %q: %w: sender address %q port %d is not an IP address and port", offer.FileName, ErrInvitation, accept.IPAddress, accept.Port)
	}
	addrs := []string{netip.AddrPortFrom(ip, uint16(accept.Port)).String()}
	if in, err := netip.ParseAddr(accept.IPAddressInternal); err == nil && in != ip {
		addrs = append(addrs, netip.AddrPortFrom(in, uint16(accept.Port)).String())
	}
	if r.Email == "" || strings.ContainsAny(r.Email, " \r\n") {
		return "", fmt.Errorf("msnftp: receive: Email %q must be set to the sign-in name", r.Email)
	}
	name := SafeName(offer.FileName)

	tmp, err := os.CreateTemp(r.Dir, ".msnftp-*.part")
	if err != nil {
		return "", fmt.Errorf("msnftp: receive %q: create temporary file: %w", offer.FileName, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	conn, err := dialFirst(ctx, orDefault(r.DialTimeout, DefaultDialTimeout), addrs)
	if err != nil {
		if ctx.Err() == nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("%w: %w", ErrTimeout, err)
			}
		}
		return "", fmt.Errorf("msnftp: receive %q: connect to the sender: %w", offer.FileName, err)
	}
	defer conn.Close()
	idle := orDefault(r.IdleTimeout, DefaultIdleTimeout)
	conn.SetDeadline(time.Now().Add(idle))
	it := interruptOn(ctx, conn)
	defer it.release()
	// fail sends word ("CCL", a BYE code) to the sender and closes.
	fail := func(word string, cause error) error {
		it.release()
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(conn, word+"\r\n")
		conn.Close()
		if ctx.Err() != nil {
			return fmt.Errorf("msnftp: receive %q: %w", offer.FileName, ctx.Err())
		}
		return cause
	}

	br := bufio.NewReader(conn)
	size, err := r.handshake(conn, br, offer, accept)
	if err != nil {
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: %w", offer.FileName, err))
	}
	res := &reservation{f: tmp, size: size}
	if err := res.grow(0); err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			return "", fail("BYE "+strconv.FormatUint(ByeNoDiskSpace, 10), fmt.Errorf("msnftp: receive %q: %w: %w", offer.FileName, ErrNoSpace, err))
		}
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: reserve %d bytes: %w", offer.FileName, size, err))
	}
	r.notify(Event{Kind: EventConnected, Cookie: cookie, Total: size})

	bufs := [][]byte{make([]byte, bufSize/2), make([]byte, bufSize/2), make([]byte, bufSize/2)}
	dr := &deadlineReader{ctx: ctx, conn: conn, r: br, idle: idle}
	last := int64(0)
	_, err = copyBlocksGrow(tmp, dr, size, bufs, res.grow, func(n int64) {
		if n-last >= bufSize || n == size {
			last = n
			r.notify(Event{Kind: EventProgress, Cookie: cookie, Bytes: n, Total: size})
		}
	})
	if err != nil {
		var pe *os.PathError
		switch {
		case errors.Is(err, ErrCancelled):
			return "", fmt.Errorf("msnftp: receive %q: %w", offer.FileName, err)
		case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
			return "", fail("BYE "+strconv.FormatUint(ByeNoDiskSpace, 10), fmt.Errorf("msnftp: receive %q: %w: %w", offer.FileName, ErrNoSpace, err))
		case errors.As(err, &pe):
			return "", fail("CCL", fmt.Errorf("msnftp: receive %q: write: %w", offer.FileName, err))
		}
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: %w", offer.FileName, err))
	}
	if ctx.Err() != nil {
		return "", fail("CCL", ctx.Err())
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: %w", offer.FileName, err))
	}
	if err := tmp.Sync(); err != nil {
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: sync: %w", offer.FileName, err))
	}
	if err := tmp.Close(); err != nil {
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: close: %w", offer.FileName, err))
	}
	path, err = placeFile(tmp.Name(), r.Dir, name)
	if err != nil {
		return "", fail("CCL", err)
	}
	if err := syncDir(r.Dir); err != nil {
		os.Remove(path)
		return "", fail("CCL", fmt.Errorf("msnftp: receive %q: sync folder: %w", offer.FileName, err))
	}
	it.release()
	conn.SetWriteDeadline(time.Now().Add(idle))
	// The file is complete and in place; a lost BYE only makes the sender
	// report a failure, so its write error is not ours.
	fmt.Fprintf(conn, "BYE %d\r\n", ByeReceived)
	r.notify(Event{Kind: EventDone, Cookie: cookie, Bytes: size, Total: size, Path: path})
	return path, nil
}

// ReserveAhead is how far ahead of the received data the receiver reserves
// disk space: a full disk is reported before the data that does not fit
// arrives, and an offer that stalls holds at most this much space beyond
// the bytes received (not the whole offered size).
const ReserveAhead = 4 << 20

// reservation grows the disk space allocated to a file being received.
type reservation struct {
	f        *os.File
	size     int64 // the announced file size
	reserved int64 // bytes allocated from offset 0
}

// grow makes sure bytes up to end are allocated, reserving ReserveAhead
// more at a time (never beyond size).
func (r *reservation) grow(end int64) error {
	if end < r.reserved || (end == r.reserved && end != 0) || r.reserved == r.size {
		return nil
	}
	to := min(r.size, end+ReserveAhead)
	if err := reserveRange(r.f, r.reserved, to-r.reserved); err != nil {
		return err
	}
	r.reserved = to
	return nil
}

// handshake runs VER / USR / FIL / TFR on the receiver side and returns the
// size announced by FIL.
func (r *Receiver) handshake(conn net.Conn, br *bufio.Reader, offer, accept *Invitation) (int64, error) {
	if _, err := io.WriteString(conn, "VER MSNFTP\r\n"); err != nil {
		return 0, err
	}
	line, err := readLine(br)
	if err != nil {
		return 0, fmt.Errorf("read VER: %w", err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "VER" || !hasField(f[1:], "MSNFTP") {
		return 0, fmt.Errorf("%w: want VER MSNFTP, got %.40q", ErrProtocol, line)
	}
	if _, err := fmt.Fprintf(conn, "USR %s %d\r\n", r.Email, accept.AuthCookie); err != nil {
		return 0, err
	}
	if line, err = readLine(br); err != nil {
		if errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("%w: the sender closed the connection after USR", ErrAuth)
		}
		return 0, fmt.Errorf("read FIL: %w", err)
	}
	f = strings.Fields(line)
	if len(f) != 2 || f[0] != "FIL" {
		return 0, fmt.Errorf("%w: want FIL size, got %.40q", ErrProtocol, line)
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || size < 0 {
		return 0, fmt.Errorf("%w: bad FIL size %.40q", ErrProtocol, f[1])
	}
	if size != offer.FileSize {
		return 0, fmt.Errorf("%w: FIL %d differs from the offered size %d", ErrProtocol, size, offer.FileSize)
	}
	if _, err := io.WriteString(conn, "TFR\r\n"); err != nil {
		return 0, err
	}
	return size, nil
}

// deadlineReader renews the read deadline before each read, unless ctx
// ended (the interrupter may have set a past deadline just before).
type deadlineReader struct {
	ctx  context.Context
	conn net.Conn
	r    io.Reader
	idle time.Duration
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	d.conn.SetReadDeadline(time.Now().Add(d.idle))
	if err := d.ctx.Err(); err != nil {
		return 0, err
	}
	return d.r.Read(p)
}

// staleAge is how old a temporary file must be for RemoveStale: far longer
// than IdleTimeout, so a running transfer's file is never removed.
const staleAge = 10 * time.Minute

// RemoveStale deletes temporary files that transfers interrupted by a
// crash or power loss left in Dir (hidden ".msnftp-*.part" files not
// written to for 10 minutes). Call it when msmsgs starts.
func (r *Receiver) RemoveStale() error {
	paths, err := filepath.Glob(filepath.Join(r.Dir, ".msnftp-*.part"))
	if err != nil {
		return fmt.Errorf("msnftp: remove stale files: %w", err)
	}
	var errs []error
	for _, p := range paths {
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() || time.Since(st.ModTime()) < staleAge {
			continue
		}
		if err := os.Remove(p); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("msnftp: remove stale files: %w", err)
	}
	return nil
}

// dialFirst connects to all addrs at once (the sender's IP-Address and
// IP-Address-Internal) and returns the first connection made.
func dialFirst(ctx context.Context, timeout time.Duration, addrs []string) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn net.Conn
		err  error
	}
	results := make(chan result, len(addrs))
	d := net.Dialer{Timeout: timeout}
	for _, a := range addrs {
		go func() {
			c, err := d.DialContext(ctx, "tcp", a)
			results <- result{c, err}
		}()
	}
	var errs []error
	var won net.Conn
	for range addrs {
		r := <-results
		switch {
		case r.err != nil:
			errs = append(errs, r.err)
		case won == nil:
			won = r.conn
			cancel()
		default:
			r.conn.Close()
		}
	}
	if won != nil {
		return won, nil
	}
	return nil, errors.Join(errs...)
}

// Package labclient is a minimal raw MSNP8 client for messengerd's tests and
// load tool: Passport 1.4 login over HTTPS, the notification-server
// handshake (following XFR NS), and a command connection with transaction
// ids, expectations and automatic CHL answers. It is not the device client
// (that is msmsgs); it speaks the wire directly so tests see every line.
package labclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Conn is one MSNP connection.
type Conn struct {
	net.Conn
	R *msnp.Reader
	W *msnp.Writer
	// Timeout bounds each read in Read and Expect.
	Timeout time.Duration
	// AutoQRY answers CHL challenges inside Read.
	AutoQRY bool

	mu      sync.Mutex
	trid    int
	backlog []msnp.Command
}

// Dial connects to an MSNP server.
func Dial(ctx context.Context, addr string) (*Conn, error) {
	return DialFrom(ctx, nil, addr)
}

// DialFrom connects to an MSNP server from the local address local (any
// when nil), e.g. 127.0.0.2 to be another host on loopback.
func DialFrom(ctx context.Context, local net.Addr, addr string) (*Conn, error) {
	d := net.Dialer{LocalAddr: local}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("labclient: dial %s: %w", addr, err)
	}
	return NewConn(nc), nil
}

// NewConn wraps an established connection.
func NewConn(nc net.Conn) *Conn {
	r := msnp.NewReader(nc)
	r.MaxPayload = msnp.MaxServerPayload
	return &Conn{Conn: nc, R: r, W: msnp.NewWriter(nc), Timeout: 10 * time.Second, AutoQRY: true}
}

// NextTrID returns a fresh transaction id.
func (c *Conn) NextTrID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.trid++
	return c.trid
}

// Send sends a command with a fresh transaction id and returns the id.
func (c *Conn) Send(name string, args ...string) (int, error) {
	id := c.NextTrID()
	return id, c.W.Write(msnp.New(name, id, args...))
}

// SendMsg sends a switchboard MSG with the given ack mode.
func (c *Conn) SendMsg(mode msnp.AckMode, payload []byte) (int, error) {
	id := c.NextTrID()
	return id, c.W.Write(msnp.Command{Name: "MSG", TrID: id, Args: []string{string(mode)}, Payload: payload})
}

// Read returns the next command (from the backlog first), answering CHL
// when AutoQRY is set.
func (c *Conn) Read() (msnp.Command, error) {
	if len(c.backlog) > 0 {
		cmd := c.backlog[0]
		c.backlog = c.backlog[1:]
		return cmd, nil
	}
	for {
		if c.Timeout > 0 {
			c.SetReadDeadline(time.Now().Add(c.Timeout))
		}
		cmd, err := c.R.ReadCommand()
		if err != nil {
			return cmd, err
		}
		if c.AutoQRY && cmd.Name == "CHL" {
			if err := c.W.Write(msnp.QRY(c.NextTrID(), cmd.Arg(0))); err != nil {
				return cmd, err
			}
			continue
		}
		return cmd, nil
	}
}

// Expect reads until a command named name (with transaction id trID, unless
// trID is msnp.NoTrID-1) arrives; other commands are kept for later Reads. A
// numeric error with that transaction id is returned as a *msnp.ServerError.
func (c *Conn) Expect(name string, trID int) (msnp.Command, error) {
	var skipped []msnp.Command
	defer func() { c.backlog = append(skipped, c.backlog...) }()
	for {
		cmd, err := c.Read()
		if err != nil {
			return cmd, fmt.Errorf("labclient: waiting for %s %d: %w", name, trID, err)
		}
		if cmd.IsError() && trID >= 0 && cmd.TrID == trID && name != cmd.Name {
			return cmd, cmd.Err()
		}
		if cmd.Name == name && (trID == Any || cmd.TrID == trID) {
			return cmd, nil
		}
		skipped = append(skipped, cmd)
		if len(skipped) > 10000 {
			return cmd, errors.New("labclient: too many unexpected commands")
		}
	}
}

// Any matches every transaction id in Expect.
const Any = msnp.NoTrID - 1

// Call sends a command and waits for the reply with the same name and id.
func (c *Conn) Call(name string, args ...string) (msnp.Command, error) {
	id, err := c.Send(name, args...)
	if err != nil {
		return msnp.Command{}, err
	}
	return c.Expect(name, id)
}

// Passport performs the Passport 1.4 login: GET the nexus, follow DALogin
// with the Authorization header carrying the account, password and the
// USR TWN S policy string, and return the from-PP ticket. A 401 is an error
// wrapping ErrLoginFailed.
func Passport(ctx context.Context, hc *http.Client, nexus, email, password, policy string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", nexus, nil)
	if err != nil {
		return "", err
	}
	res, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("labclient: nexus: %w", err)
	}
	res.Body.Close()
	var login string
	for _, f := range strings.Split(res.Header.Get("PassportURLs"), ",") {
		if v, ok := strings.CutPrefix(f, "DALogin="); ok {
			login = v
		}
	}
	if login == "" {
		return "", fmt.Errorf("labclient: nexus %s sent no DALogin", nexus)
	}
	scheme := "https://"
	if strings.HasPrefix(nexus, "http://") {
		scheme = "http://"
	}
	req, err = http.NewRequestWithContext(ctx, "GET", scheme+login, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in="+
		url.QueryEscape(email)+",pwd="+url.PathEscape(password)+","+policy)
	res, err = hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("labclient: login: %w", err)
	}
	res.Body.Close()
	if res.StatusCode == http.StatusUnauthorized {
		return "", ErrLoginFailed
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("labclient: login: HTTP %s", res.Status)
	}
	ai := res.Header.Get("Authentication-Info")
	_, rest, ok := strings.Cut(ai, "from-PP='")
	ticket, _, ok2 := strings.Cut(rest, "'")
	if !ok || !ok2 {
		return "", fmt.Errorf("labclient: login: no from-PP ticket in %q", ai)
	}
	return ticket, nil
}

// ErrLoginFailed is returned by Passport for a 401 answer.
var ErrLoginFailed = errors.New("labclient: passport login failed (401)")

// SignIn connects to the dispatch server at addr, follows XFR NS, and signs
// in with Passport. It returns after USR OK; the caller sends SYN and CHG.
func SignIn(ctx context.Context, hc *http.Client, addr, nexus, email, password string) (*Conn, error) {
	return SignInFrom(ctx, nil, hc, addr, nexus, email, password)
}

// SignInFrom is SignIn with the MSNP connections made from local (see
// DialFrom).
func SignInFrom(ctx context.Context, local net.Addr, hc *http.Client, addr, nexus, email, password string) (*Conn, error) {
	for hops := 0; hops < 3; hops++ {
		c, err := DialFrom(ctx, local, addr)
		if err != nil {
			return nil, err
		}
		if dl, ok := ctx.Deadline(); ok {
			c.SetDeadline(dl)
		}
		if _, err := c.Call("VER", "MSNP8", "CVR0"); err != nil {
			c.Close()
			return nil, err
		}
		if _, err := c.Call("CVR", "0x0409", "winnt", "5.1", "i386", "MSNMSGR", "5.0.0540", "MSMSGS", email); err != nil {
			c.Close()
			return nil, err
		}
		id, err := c.Send("USR", "TWN", "I", email)
		if err != nil {
			c.Close()
			return nil, err
		}
		cmd, err := c.Read()
		if err != nil {
			c.Close()
			return nil, err
		}
		if cmd.Name == "XFR" && cmd.TrID == id && cmd.Arg(0) == "NS" {
			c.Close()
			addr = cmd.Arg(1)
			continue
		}
		if cmd.IsError() {
			c.Close()
			return nil, cmd.Err()
		}
		if cmd.Name != "USR" || cmd.Arg(0) != "TWN" || cmd.Arg(1) != "S" {
			c.Close()
			return nil, fmt.Errorf("labclient: unexpected %v", cmd)
		}
		ticket, err := Passport(ctx, hc, nexus, email, password, cmd.Arg(2))
		if err != nil {
			c.Close()
			return nil, err
		}
		if _, err := c.Call("USR", "TWN", "S", ticket); err != nil {
			c.Close()
			return nil, err
		}
		c.SetDeadline(time.Time{})
		return c, nil
	}
	return nil, errors.New("labclient: too many XFR NS redirects")
}

// Backlog returns and clears the commands Expect skipped.
func (c *Conn) Backlog() []msnp.Command {
	b := c.backlog
	c.backlog = nil
	return b
}

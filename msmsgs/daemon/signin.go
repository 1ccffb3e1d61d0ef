package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/config"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// StateNoAccount is the state status reports while the daemon waits for
// signin (the window then shows its sign-in form).
const StateNoAccount client.State = "no-account"

// MaxPassword bounds the password signin reads from the control
// connection.
const MaxPassword = 256

// signinTimeout bounds one sign-in: Passport, the dispatch server and the
// notification server.
const signinTimeout = 60 * time.Second

// passwordKey carries the password of a signin request from the control
// connection to the command (never through its arguments, so it is in no
// request line, log or process list).
type passwordKey struct{}

// WithPassword returns ctx carrying the password for a signin command run
// through Execute.
func WithPassword(ctx context.Context, password string) context.Context {
	return context.WithValue(ctx, passwordKey{}, password)
}

// ReadPassword reads the line after a signin request: the password, at
// most MaxPassword bytes, without its line end.
func ReadPassword(br *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		line = append(line, chunk...)
		if len(line) > MaxPassword {
			return "", ErrPasswordLong
		}
		if !isPrefix {
			return string(line), nil
		}
	}
}

// ErrPasswordLong is a password line longer than MaxPassword.
var ErrPasswordLong = errors.New("password too long")

// passwordWait bounds the wait for the password line after a signin
// request.
const passwordWait = 10 * time.Second

// addSignin registers signin and signout when the daemon may sign in an
// account at run time: it has a server and no account from the settings.
func addSignin(d *Daemon, s *config.Settings) error {
	if d.cl != nil || d.sipAlone || s.Server == "" {
		return nil
	}
	cp := *s
	cp.Password = ""
	d.signinSettings = &cp
	if err := d.Register("signin", Command{
		Spec: ctlproto.Spec{Usage: "signin ACCOUNT", Min: 1, Max: 1},
		Run: func(ctx context.Context, args []string, _ func(client.Event) error) (any, error) {
			pw, _ := ctx.Value(passwordKey{}).(string)
			return d.SignIn(ctx, args[0], pw)
		},
	}); err != nil {
		return err
	}
	return d.Register("signout", Command{
		Spec: ctlproto.Spec{Usage: "signout", Min: 0, Max: 0},
		Run: func(ctx context.Context, _ []string, _ func(client.Event) error) (any, error) {
			return nil, d.SignOut()
		},
	})
}

// AwaitsSignIn reports a daemon without a .NET Messenger account that
// waits for signin.
func (d *Daemon) AwaitsSignIn() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.signinSettings != nil && d.cl == nil
}

// SignIn creates the .NET Messenger client for account and password and
// waits until it is signed in. On failure (a refused password included)
// the daemon stays without a client, so the user can try again.
func (d *Daemon) SignIn(ctx context.Context, account, password string) (any, error) {
	text := d.lang.Text
	if password == "" {
		return nil, errors.New(text("err.signin-password"))
	}
	d.mu.Lock()
	switch {
	case d.cl != nil:
		acct := d.cl.Account()
		d.mu.Unlock()
		return nil, errors.New(text("err.signed-in", acct))
	case d.signing:
		d.mu.Unlock()
		return nil, errors.New(text("err.signin-busy"))
	case d.runCtx == nil:
		d.mu.Unlock()
		return nil, errors.New(text("err.signin-not-running"))
	}
	d.signing = true
	runCtx := d.runCtx
	s := *d.signinSettings
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.signing = false
		d.mu.Unlock()
	}()
	s.Account, s.Password = account, password
	cl, err := newClient(&s, d.lang, d.log, d.onInvite, d.events)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(runCtx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cl.Run(cctx)
	}()
	wctx, wcancel := context.WithTimeout(ctx, signinTimeout)
	defer wcancel()
	if err := cl.WaitSignedIn(wctx); err != nil {
		cancel()
		<-done
		return nil, err
	}
	d.mu.Lock()
	d.cl, d.stopClient, d.clientDone = cl, cancel, done
	d.mu.Unlock()
	d.ft.Start(cctx, cl)
	d.log.Info(text("log.signed-in"), "account", account)
	return cl.Info(), nil
}

// SignOut stops the client signin started and returns the daemon to
// waiting for a sign-in.
func (d *Daemon) SignOut() error {
	text := d.lang.Text
	d.mu.Lock()
	cl, stop, done := d.cl, d.stopClient, d.clientDone
	switch {
	case cl == nil:
		d.mu.Unlock()
		return errors.New(text("err.not-signed-in"))
	case stop == nil:
		d.mu.Unlock()
		return errors.New(text("err.signout-settings", cl.Account()))
	}
	d.cl, d.stopClient, d.clientDone = nil, nil, nil
	d.mu.Unlock()
	stop()
	<-done
	// The window goes back to its sign-in form on this event.
	d.events.Publish(client.Event{Type: client.EventDisconnected, Account: cl.Account(), Reason: ReasonSignOut})
	return nil
}

// ReasonSignOut is the reason of the disconnected event signout
// publishes.
const ReasonSignOut = "signout"

// DialError is a control socket that could not be reached.
type DialError struct{ Err error }

func (e DialError) Error() string { return e.Err.Error() }

// SigninRequest is the client side of signin: it sends the request and
// the password line to the daemon at sock and returns the result (the
// client's state as JSON) or the daemon's error.
func SigninRequest(ctx context.Context, sock, account, password string) (json.RawMessage, error) {
	args := []string{"signin", account}
	conn, err := ctlproto.Dial(ctx, sock, args)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, DialError{err}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req, err := json.Marshal(ctlproto.Request{Args: args})
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(append(append(req, '\n'), password+"\n"...)); err != nil {
		return nil, fmt.Errorf("send request: %w", err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	if !sc.Scan() {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errors.New("the daemon closed the connection without an answer")
	}
	var r ctlproto.RawReply
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("bad reply from daemon: %w", err)
	}
	if !r.OK {
		return nil, errors.New(r.Error)
	}
	return r.Result, nil
}

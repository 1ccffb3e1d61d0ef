package window

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
)

// StateNoAccount is the state `status` reports when the daemon has no
// account and waits for signin (msmsgs/daemon).
const StateNoAccount client.State = "no-account"

// reasonSignOut is the reason of the disconnected event the daemon
// publishes for signout (msmsgs/daemon.ReasonSignOut).
const reasonSignOut = "signout"

// signedOut returns to the sign-in form after signout.
func (m *Model) signedOut() {
	m.Screen, m.StatusMenu, m.Error = ScreenSignIn, false, ""
	m.Contacts, m.Peer, m.Selected = nil, "", 0
	m.Form = &SignInForm{Account: []rune(m.Account)}
}

// Bounds of the sign-in form's fields: the daemon takes passwords of at
// most 256 bytes.
const (
	maxAccountLen  = 128
	maxPasswordLen = 256
)

// SignInForm is the sign-in screen's account and password fields, shown
// when the daemon has no account.
type SignInForm struct {
	Account, Password []rune
	Focus             int // 0 the account, 1 the password
	Busy              bool
	Error             string
}

// signinKey applies a key to the form and returns the command to send:
// signin ACCOUNT (the window sends the password on the line after it).
func (m *Model) signinKey(k Key) [][]string {
	f := m.Form
	if f == nil || f.Busy {
		return nil
	}
	field := &f.Account
	if f.Focus == 1 {
		field = &f.Password
	}
	switch k.Code {
	case KeyTab, KeyShiftTab, KeyUp, KeyDown:
		f.Focus = 1 - f.Focus
	case KeyBackspace:
		if len(*field) > 0 {
			*field = (*field)[:len(*field)-1]
		}
	case KeyRune:
		if k.Rune < ' ' || k.Rune == utf8.RuneError {
			return nil
		}
		limit := maxAccountLen
		if f.Focus == 1 {
			limit = maxPasswordLen
		}
		if len(string(*field))+utf8.RuneLen(k.Rune) <= limit {
			*field = append(*field, k.Rune)
		}
	case KeyEnter:
		acct := strings.TrimSpace(string(f.Account))
		switch {
		case acct == "":
			f.Focus = 0
		case len(f.Password) == 0:
			f.Focus = 1
		default:
			f.Busy, f.Error = true, ""
			return [][]string{{"signin", acct}}
		}
	}
	return nil
}

// signinResult applies the daemon's answer to signin.
func (m *Model) signinResult(res json.RawMessage, err error) {
	f := m.Form
	if f == nil {
		return
	}
	f.Busy = false
	if err != nil {
		// Try again: the password is typed anew.
		f.Error, f.Password, f.Focus = err.Error(), nil, 1
		return
	}
	var in client.Info
	if json.Unmarshal(res, &in) == nil {
		m.Account, m.State = in.Account, in.State
	}
	m.Form = nil
	if m.State == client.StateSignedIn && m.Screen == ScreenSignIn {
		m.Screen = ScreenContacts
	}
}

// signinCall sends signin ACCOUNT to the daemon with the password on the
// next line (never in the request's arguments) and returns the result.
func signinCall(ctx context.Context, sock, account, password string) (json.RawMessage, error) {
	args := []string{"signin", account}
	conn, err := ctlproto.Dial(ctx, sock, args)
	if err != nil {
		return nil, fmt.Errorf("window: control socket %s: %w", sock, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req, _ := json.Marshal(ctlproto.Request{Args: args})
	if _, err := conn.Write(append(append(req, '\n'), password+"\n"...)); err != nil {
		return nil, fmt.Errorf("window: signin: %w", err)
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	if !sc.Scan() {
		return nil, errors.New("window: signin: the daemon closed the connection without an answer")
	}
	var r ctlproto.RawReply
	if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("window: signin: bad reply: %w", err)
	}
	if !r.OK {
		return nil, errors.New(r.Error)
	}
	return r.Result, nil
}

// signInForm draws the account and password fields below the buddies,
// from y on.
func (r *Renderer) signInForm(dst *image.RGBA, m *Model, y int) {
	b := dst.Bounds()
	f := m.Form
	x0, w := b.Min.X+3*pad, b.Dx()-6*pad
	text(dst, r.Fonts.Bold, x0, y, r.Text("win.signin-title"), colText, w)
	y += 30
	field := func(label, value string, focus bool) {
		text(dst, r.Fonts.Regular, x0, y, label, colText, w)
		y += 8
		box := image.Rect(x0, y, x0+w, y+26)
		border := colLine
		if focus && !f.Busy {
			border = colSelLine
		}
		fill(dst, box, border)
		fill(dst, box.Inset(1), colBG)
		adv := text(dst, r.Fonts.Regular, x0+6, y+18, value, colText, w-14)
		if focus && !f.Busy {
			cx := min(x0+6+adv+1, x0+w-6)
			fill(dst, image.Rect(cx, y+4, cx+1, y+22), colText)
		}
		y += 26 + 22
	}
	field(r.Text("win.signin-account"), string(f.Account), f.Focus == 0)
	field(r.Text("win.signin-password"), strings.Repeat("*", len(f.Password)), f.Focus == 1)
	switch {
	case f.Busy:
		text(dst, r.Fonts.Regular, x0, y, r.Text("win.signin-progress"), colDim, w)
	case f.Error != "":
		for i, line := range r.wrapPlain(f.Error, w) {
			if i == 4 {
				break
			}
			text(dst, r.Fonts.Regular, x0, y, line, colNotice, w)
			y += 18
		}
	}
	r.hint(dst, r.Text("win.hint-signin"))
}

// wrapPlain breaks s into lines of at most width pixels at spaces.
func (r *Renderer) wrapPlain(s string, width int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		try := word
		if cur != "" {
			try = cur + " " + word
		}
		if cur != "" && font.MeasureString(r.Fonts.Regular, try).Ceil() > width {
			lines = append(lines, cur)
			cur = word
			continue
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

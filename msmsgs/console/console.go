// Package console is the text console of msmsgs for the device's serial
// console: it renders the daemon's events as lines and runs the user's
// slash commands against the daemon.
package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/oemkit/messenger/msgslang"
	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/ctlproto"
	"github.com/oemkit/messenger/msmsgs/daemon"
	"github.com/oemkit/messenger/msmsgs/msnp"
	"github.com/oemkit/messenger/msmsgs/transfer"
)

// printable makes text from the network safe for a console: a terminal
// escape sequence (ESC or CSI with its parameters, OSC up to its end)
// becomes one '?', and so does every other control character (C0, DEL,
// C1), invalid UTF-8, and the invisible format characters that reorder or
// hide text (bidi overrides, zero-width characters, line and paragraph
// separators), so a peer cannot drive or spoof the terminal. Other
// characters stay; the console's stdio.Writer shows them as UTF-8 or
// transliterates them for an ASCII console.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == 0x1b || r == 0x9b || r == 0x9d:
			i = skipEscape(s, i, r)
			b.WriteByte('?')
		case r == utf8.RuneError && n == 1:
			b.WriteByte('?')
		case r < 0x20 || r >= 0x7f && r < 0xa0:
			b.WriteByte('?')
		case r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r):
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// maxEscape bounds the bytes skipped as one escape sequence.
const maxEscape = 256

// skipEscape returns the index after the escape sequence that started with
// r (ESC, CSI or OSC) just before s[i:].
func skipEscape(s string, i int, r rune) int {
	end := min(len(s), i+maxEscape)
	switch {
	case r == 0x1b && i < end && s[i] == '[':
		i++
		r = 0x9b
	case r == 0x1b && i < end && s[i] == ']':
		i++
		r = 0x9d
	case r == 0x1b:
		if i < end && s[i] >= 0x20 && s[i] < 0x7f {
			i++ // a two-byte escape such as ESC c
		}
		return i
	}
	if r == 0x9b { // CSI: parameters and intermediates, then a final byte
		for i < end && s[i] >= 0x20 && s[i] <= 0x3f {
			i++
		}
		if i < end && s[i] >= 0x40 && s[i] <= 0x7e {
			i++
		}
		return i
	}
	for i < end { // OSC: up to BEL or ESC \
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] < 0x20 && s[i] != 0x1b:
			return i
		}
		i++
	}
	return i
}

// Printable makes text from the network safe for a console: control
// characters (C0, DEL, C1) and invalid UTF-8 become '?', so a peer cannot
// send terminal escapes.
func Printable(s string) string { return printable(s) }

// printer serialises console output from several goroutines. On a
// terminal, file transfer progress is one line updated in place; otherwise
// it is a plain line at most every plainProgressEvery per transfer.
type printer struct {
	lang     *msgslang.Catalog
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	showing  bool                 // a progress line is on screen (tty)
	lastProg map[uint32]time.Time // plain output: last progress line per transfer
}

// plainProgressEvery spaces progress lines when output is not a terminal.
const plainProgressEvery = 5 * time.Second

func (p *printer) line(key string, args ...any) {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = printable(v)
		case error:
			args[i] = printable(v.Error())
		case fmt.Stringer:
			args[i] = printable(v.String())
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.showing {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.showing = false
	}
	fmt.Fprintln(p.w, p.lang.Text(key, args...))
}

// progress shows an already formatted progress line for transfer cookie.
func (p *printer) progress(cookie uint32, s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		fmt.Fprint(p.w, "\r", s, "\x1b[K")
		p.showing = true
		return
	}
	if p.lastProg == nil {
		p.lastProg = make(map[uint32]time.Time)
	}
	if now := time.Now(); now.Sub(p.lastProg[cookie]) >= plainProgressEvery {
		p.lastProg[cookie] = now
		fmt.Fprintln(p.w, s)
	}
}

func (p *printer) statusName(s string) string { return p.lang.Text("status." + s) }

// renderEvent prints one event on the console.
func renderEvent(p *printer, e client.Event) {
	switch e.Type {
	case client.EventSignedIn:
		p.line("con.signed-in", e.Account, e.Name, p.statusName(e.Status))
	case client.EventPresence:
		p.line("con.presence", e.Name, e.Account, p.statusName(e.Status))
	case client.EventStatus:
		p.line("con.own-status", p.statusName(e.Status))
	case client.EventMessage:
		p.line("con.message", e.Conversation, e.Name, e.Text)
	case client.EventTyping:
		p.line("con.typing", e.Conversation, e.Account)
	case client.EventAddedBy:
		p.line("con.added-by", e.Name, e.Account, e.Account, e.Account)
	case client.EventRemovedBy:
		p.line("con.removed-by", e.Account)
	case client.EventContacts:
		p.line("con.contacts", e.Reason, e.Account)
	case client.EventJoined:
		p.line("con.joined", e.Conversation, e.Account)
	case client.EventLeft:
		p.line("con.left", e.Conversation, e.Account)
	case client.EventDelivered:
		p.line("con.delivered", e.Conversation)
	case client.EventUndelivered:
		to := e.Account
		if to == "" {
			to = e.Conversation
		}
		p.line("con.undelivered", to, e.Error)
	case client.EventDisconnected:
		p.line("con.disconnected", e.Error)
	case client.EventError:
		p.line("con.error", e.Error)
	case client.EventInvitation:
		p.line("con.invitation", e.Account, e.Text)
	case transfer.EventOffer:
		p.line("con.ft-offer", e.Account, e.File, byteSize(e.Size), e.Cookie, e.Cookie)
	case transfer.EventWaitingPort:
		p.line("con.ft-waiting", e.File, e.Text)
	case transfer.EventProgress:
		pct := int64(100)
		if e.Total > 0 {
			pct = e.Bytes * 100 / e.Total
		}
		p.progress(e.Cookie, p.lang.Text("con.ft-progress", printable(e.File), byteSize(e.Bytes), byteSize(e.Total), pct))
	case transfer.EventDone:
		p.line("con.ft-done", e.File, e.Path)
	case transfer.EventFailed:
		p.line("con.ft-failed", e.File, e.Error)
	case transfer.EventCancelled:
		p.line("con.ft-cancelled", e.File, e.Error)
	default:
		renderCall(p, e)
	}
}

// Run runs the console UI on d until /quit, end of input or ctx ends: it
// signs in (d.Run), prints the events on stdout and runs the lines of
// stdin. tty makes file transfer progress one line updated in place.
func Run(ctx context.Context, d *daemon.Daemon, stdin io.Reader, stdout io.Writer, tty bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p := &printer{lang: d.Lang(), w: stdout, tty: tty}
	sub, _, _ := d.Subscribe(1024)
	con := &console{d: d, cl: d.Client(), p: p, ft: d.Transfers()}
	printed := make(chan struct{})
	go func() {
		defer close(printed)
		for e := range sub.C {
			renderEvent(p, e)
			if e.Type == transfer.EventOffer {
				con.setOffer(e.Cookie)
			}
		}
	}()
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	p.line("con.welcome")

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdin)
		sc.Buffer(make([]byte, 0, 1024), 8192)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		close(lines)
	}()
	var err error
	stopped := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err = <-runErr:
			stopped = true
			break loop
		case l, ok := <-lines:
			if !ok {
				break loop
			}
			if con.do(ctx, strings.TrimSpace(l)) {
				break loop
			}
		}
	}
	if !stopped {
		p.line("con.bye")
		cancel()
		err = <-runErr
	}
	cancel()
	sub.Close()
	<-printed
	return err
}

// sipOnlyCommands work without a .NET Messenger account (beside the SIP
// forms doSIP takes).
var sipOnlyCommands = map[string]bool{"/quit": true, "/exit": true, "/help": true, "/?": true,
	"/call": true, "/answer": true, "/hangup": true, "/decline": true, "/calls": true}

// console holds the UI state: who plain text goes to.
type console struct {
	d    *daemon.Daemon
	cl   *client.Client
	p    *printer
	ft   *transfer.Manager
	last string // account of the last /msg or received message

	mu    sync.Mutex
	offer uint32 // the last file offered to us, for /accept and /reject
}

func (c *console) setOffer(cookie uint32) {
	c.mu.Lock()
	c.offer = cookie
	c.mu.Unlock()
}

// cookieArg returns the cookie argument, or the last offer without one.
func (c *console) cookieArg(args []string) (uint32, bool) {
	if len(args) > 0 {
		n, err := ctlproto.ParseCookie(args[0], c.p.lang)
		if err != nil {
			c.p.line("con.failed", err)
			return 0, false
		}
		return n, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offer == 0 {
		c.p.line("con.ft-no-offer")
		return 0, false
	}
	return c.offer, true
}

// do runs one console line; it returns true on /quit.
func (c *console) do(ctx context.Context, line string) bool {
	if line == "" {
		return false
	}
	if !strings.HasPrefix(line, "/") {
		if c.last == "" {
			c.p.line("con.bad-args", "/msg EMAIL TEXT")
			return false
		}
		if strings.HasPrefix(c.last, "sip:") || c.cl == nil {
			c.sendSIP(ctx, c.last, line)
		} else {
			c.send(ctx, c.last, line)
		}
		return false
	}
	f := strings.Fields(line)
	cmd, args := f[0], f[1:]
	need := func(n int, usage string) bool {
		if len(args) < n {
			c.p.line("con.bad-args", usage)
			return false
		}
		return true
	}
	octx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	report := func(err error) {
		if err != nil {
			c.p.line("con.failed", err)
		} else {
			c.p.line("con.ok")
		}
	}
	if c.doSIP(octx, cmd, args) {
		return false
	}
	if c.cl == nil && !sipOnlyCommands[cmd] {
		// Only a SIP account: the .NET Messenger commands say so.
		c.p.line("con.failed", c.p.lang.Text("err.no-msnp", cmd))
		return false
	}
	switch cmd {
	case "/quit", "/exit":
		return true
	case "/help", "/?":
		c.p.line("con.help")
		if c.d.SIP() != nil {
			c.p.line("con.help-sip")
		}
	case "/list", "/contacts":
		cs := c.cl.Contacts()
		shown := 0
		for _, ct := range cs {
			var fl, bl bool
			for _, l := range ct.Lists {
				fl = fl || l == msnp.ForwardList
				bl = bl || l == msnp.BlockList
			}
			if !fl && !bl {
				continue
			}
			mark := ""
			if bl {
				mark = c.p.lang.Text("con.blocked")
			}
			c.p.line("con.contact-line", ct.Account, c.p.statusName(string(ct.Status)), ct.Name, mark)
			shown++
		}
		if shown == 0 {
			c.p.line("con.no-contacts")
		}
	case "/convs":
		cv := c.cl.Conversations()
		for _, x := range cv {
			c.p.line("con.conv-line", x.ID, strings.Join(x.Members, ", "))
		}
		if len(cv) == 0 {
			c.p.line("con.no-convs")
		}
	case "/status":
		if !need(1, "/status STATUS") {
			return false
		}
		st, err := ctlproto.ParseStatus(args[0], c.p.lang)
		if err != nil {
			report(err)
			return false
		}
		report(c.cl.SetStatus(octx, st))
	case "/name":
		if need(1, "/name NAME") {
			report(c.cl.SetName(octx, strings.Join(args, " ")))
		}
	case "/msg":
		if need(2, "/msg EMAIL TEXT") {
			c.last = strings.ToLower(args[0])
			c.send(octx, c.last, strings.Join(args[1:], " "))
		}
	case "/to":
		if need(2, "/to CONV TEXT") {
			go func() { _ = c.cl.SendTo(context.WithoutCancel(octx), args[0], strings.Join(args[1:], " ")) }()
		}
	case "/add":
		if need(1, "/add EMAIL") {
			report(c.cl.Add(octx, args[0]))
		}
	case "/remove":
		if need(1, "/remove EMAIL") {
			report(c.cl.Remove(octx, args[0]))
		}
	case "/block":
		if need(1, "/block EMAIL") {
			report(c.cl.Block(octx, args[0]))
		}
	case "/unblock":
		if need(1, "/unblock EMAIL") {
			report(c.cl.Unblock(octx, args[0]))
		}
	case "/privacy":
		if !need(1, "/privacy allow|block") {
			return false
		}
		switch args[0] {
		case "allow":
			report(c.cl.SetPrivacy(octx, msnp.PrivacyAllow))
		case "block":
			report(c.cl.SetPrivacy(octx, msnp.PrivacyBlock))
		default:
			c.p.line("con.bad-args", "/privacy allow|block")
		}
	case "/invite":
		if !need(2, "/invite CONV EMAIL") {
			return false
		}
		cv := c.cl.Conversation(args[0])
		if cv == nil {
			report(errors.New("no such conversation (see /convs)"))
			return false
		}
		report(cv.Invite(octx, args[1]))
	case "/leave":
		if !need(1, "/leave CONV") {
			return false
		}
		if cv := c.cl.Conversation(args[0]); cv != nil {
			cv.Close()
		}
		c.p.line("con.ok")
	case "/sendfile":
		if !need(2, "/sendfile EMAIL PATH") {
			return false
		}
		t, err := c.ft.SendFile(octx, args[0], strings.Join(args[1:], " "), "")
		if err != nil {
			report(err)
			return false
		}
		c.p.line("con.ft-sending", t.File, t.Peer, t.Cookie)
	case "/accept", "/reject", "/cancel":
		if cmd == "/cancel" && !need(1, "/cancel COOKIE") {
			return false
		}
		cookie, ok := c.cookieArg(args)
		if !ok {
			return false
		}
		switch cmd {
		case "/accept":
			report(c.ft.Accept(cookie))
		case "/reject":
			report(c.ft.Reject(cookie))
		default:
			go func() { report(c.ft.Cancel(cookie)) }()
		}
	case "/transfers":
		ts := c.ft.List()
		for _, t := range ts {
			c.p.line("con.ft-line", t.Cookie, t.Direction, t.State, t.Peer, t.File, byteSize(t.Bytes), byteSize(t.Size))
		}
		if len(ts) == 0 {
			c.p.line("con.ft-none")
		}
	default:
		if !c.doCall(octx, cmd, args) {
			c.p.line("con.unknown", cmd)
		}
	}
	return false
}

// byteSize formats n bytes for people: 512 B, 1.5 KiB, 20.0 MiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// send sends in the background: the result arrives as a delivered or
// undelivered event.
func (c *console) send(ctx context.Context, to, msg string) {
	go func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		_ = c.cl.Send(sctx, to, msg)
	}()
}

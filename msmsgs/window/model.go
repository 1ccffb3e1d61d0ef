package window

import (
	"sort"
	"strings"
	"time"

	"github.com/oemkit/messenger/msmsgs/client"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// Screens of the window.
type Screen int

// The screens.
const (
	ScreenSignIn Screen = iota
	ScreenContacts
	ScreenConversation
	// ScreenStartPage shows the service's start page in a browser
	// control host pane (F5; Esc returns to the contacts).
	ScreenStartPage
)

// Limits on what the model keeps, so a chatty peer cannot grow the window.
const (
	MaxHistory   = 200 // lines per conversation
	MaxInput     = 1400
	MaxTransfers = 32
	TypingShown  = 6 * time.Second
)

// Contact is one entry of the contact list.
type Contact struct {
	Account string
	Name    string
	Status  msnp.Status
}

// Line is one entry of a conversation's history.
type Line struct {
	From, Name string
	Text       string
	Time       time.Time
	Own        bool
	Notice     bool // a system line (delivery failure, transfer end)
	// Kind marks a call line (calls.go); Text is then the daemon's
	// reason or error and Dur a connected call's length.
	Kind LineKind
	Dur  time.Duration
}

// LineKind is what a history line is.
type LineKind int

// The kinds of history lines.
const (
	LineText         LineKind = iota // a message or a notice
	LineCallOffer                    // the peer called
	LineCallEnded                    // a call ended (Text: the reason)
	LineCallDeclined                 // the daemon refused an invitation without asking (Text: why)
	LineCallFailed                   // a call command failed (Text: the error)
)

// Conversation is the history with one contact.
type Conversation struct {
	Peer     string
	Lines    []Line
	TypingAt time.Time // when the peer last typed
}

// Transfer is a file offer or transfer shown in a conversation.
type Transfer struct {
	Cookie      uint32
	Peer        string
	File        string
	Size, Bytes int64
	State       string // offer, active, done, failed, cancelled
	Error       string
}

// Model is everything the window shows. Apply changes it from daemon
// events, Key from the user's keys; both return the ctl commands to send.
type Model struct {
	Account, Name string
	State         client.State
	Status        msnp.Status
	Error         string

	Contacts  []Contact
	Convs     map[string]*Conversation // by peer account
	Transfers []*Transfer
	Calls     []*Call // voice calls in progress (calls.go)

	Screen     Screen
	Selected   int    // index into the contact list rows (Rows)
	Peer       string // the open conversation
	Input      []rune
	StatusMenu bool
	MenuSel    int
	Scroll     int // conversation lines scrolled back
	// StartOpens counts the F5 presses: each one (re)opens the start
	// page; the window's start page pane follows it.
	StartOpens int
	// Form is the sign-in form (signin.go), shown while the daemon has
	// no account; nil when the account comes from the settings.
	Form *SignInForm

	lastTyping time.Time
}

// NewModel returns the model before sign-in.
func NewModel(account string) *Model {
	return &Model{Account: account, State: client.StateConnecting, Status: msnp.StatusOffline, Convs: map[string]*Conversation{}}
}

// SetContacts replaces the contact list (from the ctl "contacts" result),
// keeping the forward list only.
func (m *Model) SetContacts(cs []client.Contact) {
	sel := m.selectedAccount()
	m.Contacts = m.Contacts[:0]
	for _, c := range cs {
		fl := len(c.Lists) == 0
		for _, l := range c.Lists {
			if l == msnp.ForwardList {
				fl = true
			}
		}
		if !fl {
			continue
		}
		st := c.Status
		if st == "" {
			st = msnp.StatusOffline
		}
		m.Contacts = append(m.Contacts, Contact{Account: c.Account, Name: c.Name, Status: st})
	}
	m.reselect(sel)
}

// Group is the contacts of one status, in display order.
type Group struct {
	Status   msnp.Status
	Contacts []Contact
}

// Groups returns the contact list grouped by status in the order of
// msnp.Statuses, each group sorted by name.
func (m *Model) Groups() []Group {
	by := map[msnp.Status][]Contact{}
	for _, c := range m.Contacts {
		st := c.Status
		if st == msnp.StatusHidden {
			st = msnp.StatusOffline
		}
		by[st] = append(by[st], c)
	}
	var out []Group
	for _, st := range msnp.Statuses {
		cs := by[st]
		if len(cs) == 0 {
			continue
		}
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := strings.ToLower(displayName(cs[i])), strings.ToLower(displayName(cs[j]))
			if a != b {
				return a < b
			}
			return cs[i].Account < cs[j].Account
		})
		out = append(out, Group{Status: st, Contacts: cs})
	}
	return out
}

func displayName(c Contact) string {
	if c.Name != "" {
		return c.Name
	}
	return c.Account
}

// Rows returns the contacts in display order (the selectable rows).
func (m *Model) Rows() []Contact {
	var out []Contact
	for _, g := range m.Groups() {
		out = append(out, g.Contacts...)
	}
	return out
}

func (m *Model) selectedAccount() string {
	rows := m.Rows()
	if m.Selected >= 0 && m.Selected < len(rows) {
		return rows[m.Selected].Account
	}
	return ""
}

func (m *Model) reselect(account string) {
	rows := m.Rows()
	for i, r := range rows {
		if r.Account == account {
			m.Selected = i
			return
		}
	}
	if m.Selected >= len(rows) {
		m.Selected = len(rows) - 1
	}
	if m.Selected < 0 {
		m.Selected = 0
	}
}

func (m *Model) contact(account string) *Contact {
	for i := range m.Contacts {
		if strings.EqualFold(m.Contacts[i].Account, account) {
			return &m.Contacts[i]
		}
	}
	return nil
}

// NameOf returns the friendly name of an account (the account when none).
func (m *Model) NameOf(account string) string {
	if strings.EqualFold(account, m.Account) && m.Name != "" {
		return m.Name
	}
	if c := m.contact(account); c != nil && c.Name != "" {
		return c.Name
	}
	return account
}

// Conv returns the conversation with peer, creating it.
func (m *Model) Conv(peer string) *Conversation {
	key := strings.ToLower(peer)
	c, ok := m.Convs[key]
	if !ok {
		c = &Conversation{Peer: peer}
		m.Convs[key] = c
	}
	return c
}

func (c *Conversation) add(l Line) {
	c.Lines = append(c.Lines, l)
	if n := len(c.Lines) - MaxHistory; n > 0 {
		c.Lines = append(c.Lines[:0], c.Lines[n:]...)
	}
}

// Typing reports whether the peer typed within TypingShown of now.
func (c *Conversation) Typing(now time.Time) bool {
	return !c.TypingAt.IsZero() && now.Sub(c.TypingAt) < TypingShown
}

func (m *Model) transfer(cookie uint32) *Transfer {
	for _, t := range m.Transfers {
		if t.Cookie == cookie {
			return t
		}
	}
	return nil
}

// Apply changes the model for one daemon event. It returns the ctl
// commands the window should send in answer (a contact list refresh).
func (m *Model) Apply(e client.Event) [][]string {
	switch e.Type {
	case client.EventSignedIn:
		m.State, m.Error = client.StateSignedIn, ""
		m.Name, m.Status = e.Name, msnp.Status(e.Status)
		if m.Screen == ScreenSignIn {
			m.Screen = ScreenContacts
		}
		return [][]string{{"contacts"}}
	case client.EventStatus:
		if e.Name != "" {
			m.Name = e.Name
		}
		if e.Status != "" {
			m.Status = msnp.Status(e.Status)
		}
	case client.EventPresence:
		sel := m.selectedAccount()
		c := m.contact(e.Account)
		if c == nil {
			return [][]string{{"contacts"}}
		}
		if e.Name != "" {
			c.Name = e.Name
		}
		if e.Status != "" {
			c.Status = msnp.Status(e.Status)
		}
		m.reselect(sel)
	case client.EventContacts, client.EventAddedBy, client.EventRemovedBy:
		return [][]string{{"contacts"}}
	case client.EventMessage:
		c := m.Conv(e.Account)
		c.TypingAt = time.Time{}
		c.add(Line{From: e.Account, Name: m.NameOf(e.Account), Text: e.Text, Time: e.Time})
		if m.Screen != ScreenConversation {
			m.open(e.Account)
		}
	case client.EventTyping:
		m.Conv(e.Account).TypingAt = e.Time
	case client.EventUndelivered:
		if e.Account != "" {
			m.Conv(e.Account).add(Line{Notice: true, Text: e.Error, Time: e.Time})
		}
	case client.EventDisconnected:
		m.State, m.Error = client.StateOffline, firstNonEmpty(e.Error, e.Reason)
		m.Status = msnp.StatusOffline
		if e.Reason == reasonSignOut {
			m.signedOut()
		}
	case client.EventError:
		m.Error = e.Error
	case client.EventCallOffer, client.EventCallRinging, client.EventCallConnected,
		client.EventCallStats, client.EventCallEnded, client.EventCallDeclined:
		m.applyCall(e)
	case "ft-offer":
		if len(m.Transfers) >= MaxTransfers {
			m.Transfers = m.Transfers[1:]
		}
		m.Transfers = append(m.Transfers, &Transfer{Cookie: e.Cookie, Peer: e.Account, File: e.File, Size: e.Size, State: "offer"})
		if m.Screen != ScreenConversation {
			m.open(e.Account)
		}
	case "ft-progress":
		if t := m.transfer(e.Cookie); t != nil {
			t.State, t.Bytes = "active", e.Bytes
			if e.Total > 0 {
				t.Size = e.Total
			}
		}
	case "ft-done":
		if t := m.transfer(e.Cookie); t != nil {
			t.State, t.Bytes = "done", t.Size
		}
	case "ft-failed", "ft-cancelled":
		if t := m.transfer(e.Cookie); t != nil {
			t.State, t.Error = strings.TrimPrefix(e.Type, "ft-"), e.Error
		}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (m *Model) open(peer string) {
	m.Screen, m.Peer, m.Scroll = ScreenConversation, peer, 0
	m.Conv(peer)
}

// Keys the window handles besides printable runes.
type KeyCode int

// Key codes.
const (
	KeyRune KeyCode = iota
	KeyUp
	KeyDown
	KeyEnter
	KeyEsc
	KeyBackspace
	KeyPageUp
	KeyPageDown
	KeyF2
	KeyF3
	KeyF4
	KeyTab
	KeyShiftTab
	KeyF5
	KeyF6 // call the contact, answer a call
	KeyF7 // decline or hang up
	KeyF8 // mute or unmute
)

// Key is one key press.
type Key struct {
	Code KeyCode
	Rune rune
}

// SettableStatuses are the statuses of the status menu, with the ctl word.
var SettableStatuses = []struct {
	Status msnp.Status
	Word   string
}{
	{msnp.StatusOnline, "online"}, {msnp.StatusBusy, "busy"}, {msnp.StatusBeRightBack, "brb"},
	{msnp.StatusAway, "away"}, {msnp.StatusOnThePhone, "phone"}, {msnp.StatusOutToLunch, "lunch"},
	{msnp.StatusHidden, "hidden"},
}

// Key applies one key press at time now and returns the ctl commands to
// send.
func (m *Model) Key(k Key, now time.Time) [][]string {
	if m.StatusMenu {
		switch k.Code {
		case KeyUp:
			m.MenuSel = max(0, m.MenuSel-1)
		case KeyDown:
			m.MenuSel = min(len(SettableStatuses)-1, m.MenuSel+1)
		case KeyEsc, KeyF2:
			m.StatusMenu = false
		case KeyEnter:
			m.StatusMenu = false
			return [][]string{{"status", "set", SettableStatuses[m.MenuSel].Word}}
		}
		return nil
	}
	if k.Code == KeyF2 && m.Screen != ScreenSignIn {
		m.StatusMenu = true
		m.MenuSel = 0
		for i, s := range SettableStatuses {
			if s.Status == m.Status {
				m.MenuSel = i
			}
		}
		return nil
	}
	if k.Code == KeyF5 && m.Screen != ScreenSignIn {
		m.Screen = ScreenStartPage
		m.StartOpens++
		return nil
	}
	switch m.Screen {
	case ScreenSignIn:
		return m.signinKey(k)
	case ScreenStartPage:
		// The pane takes the other keys (the window hands them to it).
		if k.Code == KeyEsc {
			m.Screen = ScreenContacts
		}
	case ScreenContacts:
		n := len(m.Rows())
		switch k.Code {
		case KeyUp:
			m.Selected = max(0, m.Selected-1)
		case KeyDown:
			m.Selected = max(0, min(n-1, m.Selected+1))
		case KeyPageUp:
			m.Selected = max(0, m.Selected-10)
		case KeyPageDown:
			m.Selected = max(0, min(n-1, m.Selected+10))
		case KeyEnter:
			if a := m.selectedAccount(); a != "" {
				m.open(a)
			}
		case KeyTab:
			if m.Peer != "" {
				m.Screen = ScreenConversation
			}
		case KeyF6, KeyF7, KeyF8:
			return m.callKey(k, m.selectedAccount(), now)
		}
	case ScreenConversation:
		switch k.Code {
		case KeyEsc, KeyTab, KeyShiftTab:
			m.Screen = ScreenContacts
			m.reselect(m.Peer)
		case KeyBackspace:
			if len(m.Input) > 0 {
				m.Input = m.Input[:len(m.Input)-1]
			}
		case KeyPageUp:
			m.Scroll += 5
		case KeyPageDown:
			m.Scroll = max(0, m.Scroll-5)
		case KeyEnter:
			text := strings.TrimSpace(string(m.Input))
			m.Input = m.Input[:0]
			if text == "" {
				return nil
			}
			m.Scroll = 0
			m.Conv(m.Peer).add(Line{From: m.Account, Name: m.NameOf(m.Account), Text: text, Time: now, Own: true})
			return [][]string{{"send", m.Peer, text}}
		case KeyF6, KeyF7, KeyF8:
			return m.callKey(k, m.Peer, now)
		case KeyF3, KeyF4:
			for _, t := range m.Transfers {
				if t.State == "offer" && strings.EqualFold(t.Peer, m.Peer) {
					verb := "accept"
					t.State = "active"
					if k.Code == KeyF4 {
						verb, t.State = "reject", "cancelled"
					}
					return [][]string{{verb, itoa(t.Cookie)}}
				}
			}
		case KeyRune:
			if len(m.Input) < MaxInput && k.Rune >= ' ' {
				m.Input = append(m.Input, k.Rune)
				if now.Sub(m.lastTyping) > 4*time.Second {
					m.lastTyping = now
					return [][]string{{"typing", m.Peer}}
				}
			}
		}
	}
	return nil
}

// Click is a pointer click on contact row i: the first click selects
// it, a click on the selected row opens its conversation.
func (m *Model) Click(i int) {
	if i < 0 || i >= len(m.Rows()) {
		return
	}
	if i == m.Selected {
		m.open(m.Rows()[i].Account)
		return
	}
	m.Selected = i
}

// MenuClick is a pointer click on status menu entry i: it sets that
// status, as Enter on it would.
func (m *Model) MenuClick(i int) [][]string {
	if !m.StatusMenu || i < 0 || i >= len(SettableStatuses) {
		return nil
	}
	m.MenuSel = i
	return m.Key(Key{Code: KeyEnter}, time.Now())
}

func itoa(u uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			return string(b[i:])
		}
	}
}

package server

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// user is a signed-in account. Fields other than email and c are guarded by
// Server.mu.
type user struct {
	email   string
	c       *conn
	name    string      // friendly name, plain text
	status  msnp.Status // "" until the first CHG
	blp     string
	gtc     string
	version int
	groups  []store.Group
	lists   map[string]*store.Contact

	chl     string // outstanding challenge
	chlSent time.Time
	nextChl time.Time
}

func (u *user) entry(email string) *store.Contact { return u.lists[email] }

func (u *user) has(email string, bit int) bool {
	e := u.lists[email]
	return e != nil && e.Lists&bit != 0
}

// outMsg is a command to send after the server lock is released.
type outMsg struct {
	c   *conn
	cmd msnp.Command
}

func flush(outs []outMsg) {
	for _, o := range outs {
		o.c.send(o.cmd)
	}
}

// seenBy is the status that account w sees for signed-in user u: privacy
// (BL, BLP with AL) turns u into FLN.
func seenBy(u *user, w string) msnp.Status {
	if u == nil || u.status == "" || u.status == msnp.StatusHidden || u.status == msnp.StatusOffline {
		return msnp.StatusOffline
	}
	e := u.lists[w]
	if e != nil && e.Lists&store.BL != 0 {
		return msnp.StatusOffline
	}
	if u.blp == "BL" && (e == nil || e.Lists&store.AL == 0) {
		return msnp.StatusOffline
	}
	return u.status
}

type view struct {
	st   msnp.Status
	name string
}

// watchers returns signed-in users that have u on their FL and have set a
// status. Caller holds s.mu.
func (s *Server) watchers(u *user) []*user {
	var ws []*user
	for email, e := range u.lists {
		if e.Lists&store.RL == 0 {
			continue
		}
		w := s.users[email]
		if w != nil && w.status != "" && w.has(u.email, store.FL) {
			ws = append(ws, w)
		}
	}
	return ws
}

// snapshot records how u's watchers see u. Caller holds s.mu.
func (s *Server) snapshot(u *user) map[*user]view {
	m := map[*user]view{}
	for _, w := range s.watchers(u) {
		m[w] = view{seenBy(u, w.email), u.name}
	}
	return m
}

// diff returns NLN/FLN commands for watchers whose view of u changed since
// before. Caller holds s.mu.
func (s *Server) diff(u *user, before map[*user]view) []outMsg {
	var outs []outMsg
	for _, w := range s.watchers(u) {
		old, ok := before[w]
		if !ok {
			old = view{msnp.StatusOffline, ""}
		}
		now := seenBy(u, w.email)
		switch {
		case now == msnp.StatusOffline && old.st != msnp.StatusOffline:
			outs = append(outs, outMsg{w.c, msnp.New("FLN", msnp.NoTrID, u.email)})
		case now != msnp.StatusOffline && (now != old.st || u.name != old.name):
			outs = append(outs, outMsg{w.c, msnp.New("NLN", msnp.NoTrID, string(now), u.email, msnp.EncodeName(u.name))})
		}
	}
	// Watchers that no longer watch (e.g. signed out) need nothing.
	return outs
}

// serveNS runs the sign-in part of a notification session and returns the
// signed-in user, or nil when the connection is done.
func (s *Server) serveNS(c *conn, ver msnp.Command, dispatch bool) *user {
	if !slices.Contains(ver.Args, "MSNP8") {
		c.send(msnp.New("VER", ver.TrID, "0"))
		return nil
	}
	reply := []string{"MSNP8"}
	if slices.Contains(ver.Args, "CVR0") {
		reply = append(reply, "CVR0")
	}
	if c.send(msnp.New("VER", ver.TrID, reply...)) != nil {
		return nil
	}
	deadline := time.Now().Add(s.cfg.AuthTimeout)
	pending := ""
	for {
		cmd, err := c.read(time.Until(deadline))
		if err != nil {
			s.logReadErr(c, err)
			return nil
		}
		switch cmd.Name {
		case "CVR":
			if len(cmd.Args) < 7 {
				c.sendErr(msnp.CodeBadCVR, cmd.TrID)
				continue
			}
			v := cmd.Args[5]
			c.send(msnp.New("CVR", cmd.TrID, v, v, v, "http://messenger.msn.com", "http://messenger.msn.com"))
		case "USR":
			switch {
			case cmd.Arg(0) != "TWN":
				c.sendErr(msnp.CodeAuthFailed, cmd.TrID)
				return nil
			case cmd.Arg(1) == "I":
				email, code := checkAccountName(cmd.Arg(2))
				if code != 0 {
					c.sendErr(code, cmd.TrID)
					continue
				}
				if dispatch {
					c.send(msnp.New("XFR", cmd.TrID, "NS", s.cfg.NSAddr, "0", c.LocalAddr().String()))
					return nil
				}
				pending = email
				c.send(msnp.New("USR", cmd.TrID, "TWN", "S", "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct="+
					strconv.FormatInt(time.Now().Unix(), 10)+",kpp=1,kv=5,ver=2.1.0173.1,tpf="+strings.ReplaceAll(newCookie(), ".", "")))
			case cmd.Arg(1) == "S" && pending != "":
				email, err := s.cfg.Tickets.Verify(cmd.Arg(2))
				if err != nil || email != pending {
					s.cfg.Log.Info("sign-in rejected", "account", pending, "remote", c.RemoteAddr(), "err", err)
					c.sendErr(msnp.CodeAuthFailed, cmd.TrID)
					return nil
				}
				// Counted as signed in before USR OK goes out, so a client
				// that sees OK and opens its next connection at once finds
				// its address's pending count already down.
				s.signedIn(c)
				s.release.note()
				u, err := s.signIn(c, email, cmd.TrID)
				if err != nil {
					s.cfg.Log.Error("sign-in failed", "account", email, "err", err)
					c.sendErr(msnp.CodeInternalError, cmd.TrID)
					return nil
				}
				return u
			default:
				c.sendErr(msnp.CodeAuthFailed, cmd.TrID)
				return nil
			}
		case "PNG":
			c.send(msnp.New("QNG", msnp.NoTrID))
		case "OUT":
			return nil
		default:
			if cmd.TrID == msnp.NoTrID {
				return nil
			}
			c.sendErr(msnp.CodeNotLoggedIn, cmd.TrID)
		}
	}
}

// checkAccountName validates the account in USR I / ADD / CAL.
func checkAccountName(a string) (string, msnp.Code) {
	local, domain, ok := strings.Cut(a, "@")
	if ok && local != "" && domain == "" {
		return "", msnp.CodeDomainMissing
	}
	e, err := store.NormalizeEmail(a)
	if err != nil {
		return "", msnp.CodeInvalidUser
	}
	return e, 0
}

// signIn loads the account, replaces an older session (OUT OTH) and sends
// the sign-in reply, the profile message and a first challenge.
func (s *Server) signIn(c *conn, email string, trID int) (*user, error) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	var a *store.Account
	var err error
	offload(func() { a, err = s.cfg.Store.Load(context.Background(), email) })
	if err != nil {
		return nil, err
	}
	u := &user{email: email, c: c, name: a.Name, blp: a.BLP, gtc: a.GTC, version: a.Version, groups: a.Groups}
	if len(a.Contacts) > 0 {
		u.lists = make(map[string]*store.Contact, len(a.Contacts))
		for i := range a.Contacts {
			u.lists[a.Contacts[i].Email] = &a.Contacts[i]
		}
	}
	now := time.Now()
	c.touch(now)
	u.chl = newChallenge()
	u.chlSent = now
	u.nextChl = now.Add(s.cfg.ChallengeInterval)
	var outs []outMsg
	s.mu.Lock()
	old := s.users[email]
	if old != nil {
		before := s.snapshot(old)
		old.status = msnp.StatusOffline
		outs = append(outs, s.diff(old, before)...)
		outs = append(outs, outMsg{old.c, msnp.New("OUT", msnp.NoTrID, "OTH")})
	}
	s.users[email] = u
	chl := u.chl
	s.mu.Unlock()
	flush(outs)
	if old != nil {
		old.c.Close()
	}
	c.send(msnp.New("USR", trID, "OK", email, msnp.EncodeName(u.name), "1", "0"))
	c.send(msnp.Command{Name: "MSG", TrID: msnp.NoTrID, Args: []string{"Hotmail", "Hotmail"}, Payload: profile(c, email)})
	c.send(msnp.New("CHL", 0, chl))
	s.cfg.Log.Info("signed in", "account", email, "remote", c.RemoteAddr())
	return u, nil
}

func profile(c net.Conn, email string) []byte {
	host, port, _ := net.SplitHostPort(c.RemoteAddr().String())
	m := &msnp.Message{Header: msnp.Header{
		{Key: "MIME-Version", Value: "1.0"},
		{Key: "Content-Type", Value: "text/x-msmsgsprofile; charset=UTF-8"},
		{Key: "LoginTime", Value: strconv.FormatInt(time.Now().Unix(), 10)},
		{Key: "EmailEnabled", Value: "0"},
		{Key: "MemberIdHigh", Value: "0"},
		{Key: "MemberIdLow", Value: "0"},
		{Key: "lang_preference", Value: "1033"},
		{Key: "PreferredEmail", Value: email},
		{Key: "country", Value: ""},
		{Key: "PostalCode", Value: ""},
		{Key: "Gender", Value: ""},
		{Key: "Kid", Value: "0"},
		{Key: "Age", Value: ""},
		{Key: "Birthday", Value: ""},
		{Key: "Wallet", Value: ""},
		{Key: "Flags", Value: "1027"},
		{Key: "sid", Value: "507"},
		{Key: "kv", Value: "11"},
		{Key: "ClientIP", Value: host},
		{Key: "ClientPort", Value: port},
	}}
	b, _ := m.Bytes()
	return b
}

// signOut removes u (if still current) and tells watchers it went offline.
func (s *Server) signOut(u *user) {
	s.mu.Lock()
	var outs []outMsg
	if s.users[u.email] == u {
		before := s.snapshot(u)
		u.status = msnp.StatusOffline
		outs = s.diff(u, before)
		delete(s.users, u.email)
	}
	s.mu.Unlock()
	flush(outs)
	s.cfg.Log.Info("signed out", "account", u.email)
}

// nextCommand reads and handles one command; false ends the session.
func (s *Server) nextCommand(u *user) bool {
	cmd, err := u.c.read(s.cfg.IdleTimeout)
	if err != nil {
		s.logReadErr(u.c, err)
		return false
	}
	u.c.touch(time.Now())
	return s.nsCommand(u, cmd)
}

// nsCommand handles one command of a signed-in session; false closes it.
func (s *Server) nsCommand(u *user, cmd msnp.Command) bool {
	c := u.c
	if cmd.TrID == msnp.NoTrID {
		switch cmd.Name {
		case "PNG":
			return c.send(msnp.New("QNG", msnp.NoTrID)) == nil
		case "OUT":
			return false
		}
		return false // every other client command carries a transaction id
	}
	switch cmd.Name {
	case "SYN":
		s.syn(u, cmd)
	case "CHG":
		s.chg(u, cmd)
	case "QRY":
		return s.qry(u, cmd)
	case "ADD":
		s.add(u, cmd)
	case "REM":
		s.rem(u, cmd)
	case "BLP", "GTC":
		s.setMode(u, cmd)
	case "REA":
		s.rea(u, cmd)
	case "ADG", "RMG", "REG":
		s.group(u, cmd)
	case "LST", "LSG":
		s.list(u, cmd)
	case "XFR":
		s.xfr(u, cmd)
	case "USR":
		c.sendErr(msnp.CodeAlreadyLoggedIn, cmd.TrID)
	case "CVR":
		v := cmd.Arg(5)
		if v == "" {
			c.sendErr(msnp.CodeBadCVR, cmd.TrID)
			break
		}
		c.send(msnp.New("CVR", cmd.TrID, v, v, v, "http://messenger.msn.com", "http://messenger.msn.com"))
	case "PNG":
		c.send(msnp.New("QNG", msnp.NoTrID))
	default:
		c.sendErr(msnp.CodeSyntax, cmd.TrID)
	}
	return true
}

func (s *Server) qry(u *user, cmd msnp.Command) bool {
	s.mu.Lock()
	chl := u.chl
	ok := chl != "" && cmd.Arg(0) == msnp.ProductID && string(cmd.Payload) == msnp.ChallengeResponse(chl)
	if ok {
		u.chl = ""
	}
	s.mu.Unlock()
	if !ok {
		u.c.sendErr(msnp.CodeChallengeFailed, cmd.TrID)
		s.cfg.Log.Info("challenge failed", "account", u.email)
		return false
	}
	return u.c.send(msnp.New("QRY", cmd.TrID)) == nil
}

func groupName(id int, gs []store.Group) (string, bool) {
	if id == 0 {
		return "Other Contacts", true
	}
	for _, g := range gs {
		if g.ID == id {
			return g.Name, true
		}
	}
	return "", false
}

func groupsArg(gs []int) string {
	if len(gs) == 0 {
		return "0"
	}
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(g))
	}
	return b.String()
}

func lstArgs(e *store.Contact) []string {
	args := []string{e.Email, msnp.EncodeName(e.Name), strconv.Itoa(e.Lists)}
	if e.Lists&store.FL != 0 {
		args = append(args, groupsArg(e.Groups))
	}
	return args
}

func sortedEntries(u *user) []*store.Contact {
	es := make([]*store.Contact, 0, len(u.lists))
	for _, e := range u.lists {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *store.Contact) int { return strings.Compare(a.Email, b.Email) })
	return es
}

func (s *Server) syn(u *user, cmd msnp.Command) {
	ver, err := strconv.Atoi(cmd.Arg(0))
	if err != nil {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	s.mu.Lock()
	var cmds []msnp.Command
	if ver == u.version && ver != 0 {
		cmds = append(cmds, msnp.New("SYN", cmd.TrID, strconv.Itoa(u.version)))
	} else {
		es := sortedEntries(u)
		cmds = append(cmds,
			msnp.New("SYN", cmd.TrID, strconv.Itoa(u.version), strconv.Itoa(len(es)), strconv.Itoa(len(u.groups)+1)),
			msnp.New("GTC", msnp.NoTrID, u.gtc),
			msnp.New("BLP", msnp.NoTrID, u.blp),
			msnp.New("LSG", msnp.NoTrID, "0", "Other%20Contacts", "0"))
		for _, g := range u.groups {
			cmds = append(cmds, msnp.New("LSG", msnp.NoTrID, strconv.Itoa(g.ID), msnp.EncodeName(g.Name), "0"))
		}
		for _, e := range es {
			cmds = append(cmds, msnp.New("LST", msnp.NoTrID, lstArgs(e)...))
		}
	}
	s.mu.Unlock()
	for _, c := range cmds {
		if u.c.send(c) != nil {
			return
		}
	}
}

// list answers client-initiated LST and LSG (MSNP7-style numbered replies).
func (s *Server) list(u *user, cmd msnp.Command) {
	s.mu.Lock()
	var cmds []msnp.Command
	ver := strconv.Itoa(u.version)
	if cmd.Name == "LSG" {
		n := strconv.Itoa(len(u.groups) + 1)
		cmds = append(cmds, msnp.New("LSG", cmd.TrID, ver, "1", n, "0", "Other%20Contacts", "0"))
		for i, g := range u.groups {
			cmds = append(cmds, msnp.New("LSG", cmd.TrID, ver, strconv.Itoa(i+2), n, strconv.Itoa(g.ID), msnp.EncodeName(g.Name), "0"))
		}
	} else {
		l, err := msnp.ParseList(cmd.Arg(0))
		if err != nil {
			s.mu.Unlock()
			u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
			return
		}
		var es []*store.Contact
		for _, e := range sortedEntries(u) {
			if e.Lists&l.Bit() != 0 {
				es = append(es, e)
			}
		}
		if len(es) == 0 {
			cmds = append(cmds, msnp.New("LST", cmd.TrID, string(l), ver, "0", "0"))
		}
		for i, e := range es {
			args := []string{string(l), ver, strconv.Itoa(i + 1), strconv.Itoa(len(es)), e.Email, msnp.EncodeName(e.Name)}
			if l == msnp.ForwardList {
				args = append(args, groupsArg(e.Groups))
			}
			cmds = append(cmds, msnp.New("LST", cmd.TrID, args...))
		}
	}
	s.mu.Unlock()
	for _, c := range cmds {
		if u.c.send(c) != nil {
			return
		}
	}
}

func (s *Server) chg(u *user, cmd msnp.Command) {
	st, err := msnp.ParseStatus(cmd.Arg(0))
	if err != nil || !st.Settable() {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	clientID := cmd.Arg(1)
	if clientID == "" {
		clientID = "0"
	}
	s.mu.Lock()
	first := u.status == ""
	before := s.snapshot(u)
	u.status = st
	outs := []outMsg{{u.c, msnp.New("CHG", cmd.TrID, string(st), clientID)}}
	if first {
		for _, e := range sortedEntries(u) {
			if e.Lists&store.FL == 0 {
				continue
			}
			if cu := s.users[e.Email]; cu != nil {
				if cst := seenBy(cu, u.email); cst != msnp.StatusOffline {
					outs = append(outs, outMsg{u.c, msnp.New("ILN", cmd.TrID, string(cst), cu.email, msnp.EncodeName(cu.name))})
				}
			}
		}
	}
	outs = append(outs, s.diff(u, before)...)
	s.mu.Unlock()
	flush(outs)
}

func (s *Server) xfr(u *user, cmd msnp.Command) {
	if cmd.Arg(0) != "SB" {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	s.mu.Lock()
	if u.status == msnp.StatusHidden {
		s.mu.Unlock()
		u.c.sendErr(msnp.CodeNotAllowedOffline, cmd.TrID)
		return
	}
	ck, code := s.issueCookie(u.email, 0, u.email, u.c, msnp.CodeTooManySessions)
	s.mu.Unlock()
	if code != 0 {
		u.c.sendErr(code, cmd.TrID)
		return
	}
	u.c.send(msnp.New("XFR", cmd.TrID, "SB", s.sbAddr(u.c), "CKI", ck))
}

// sbAddr is the switchboard address to give the client on c.
func (s *Server) sbAddr(c net.Conn) string {
	local := c.LocalAddr().String()
	if s.cfg.SBHost == "" {
		return local
	}
	_, port, _ := net.SplitHostPort(local)
	return net.JoinHostPort(s.cfg.SBHost, port)
}

package server

import (
	"context"

	"slices"
	"strconv"

	"github.com/oemkit/messenger/messengerd/store"
	"github.com/oemkit/messenger/msmsgs/msnp"
)

// maxGroups bounds the groups of one account.
const maxGroups = 30

func copyEntry(e *store.Contact, email string) store.Contact {
	if e == nil {
		return store.Contact{Email: email}
	}
	c := *e
	c.Groups = slices.Clone(e.Groups)
	return c
}

// peerEntry returns contact's entry for owner (from memory when contact is
// signed in). Caller holds s.listMu.
func (s *Server) peerEntry(contact, owner string) (store.Contact, *user, error) {
	s.mu.Lock()
	cu := s.users[contact]
	var e store.Contact
	if cu != nil {
		e = copyEntry(cu.lists[owner], owner)
	}
	s.mu.Unlock()
	if cu != nil {
		return e, cu, nil
	}
	e, err := s.cfg.Store.Entry(context.Background(), contact, owner)
	return e, nil, err
}

// apply stores e in u's in-memory lists. Caller holds s.mu.
func apply(u *user, e store.Contact, ver int) {
	if ver > 0 {
		u.version = ver
	}
	if e.Lists == 0 {
		delete(u.lists, e.Email)
		return
	}
	if u.lists == nil {
		u.lists = map[string]*store.Contact{}
	}
	u.lists[e.Email] = &e
}

func (s *Server) add(u *user, cmd msnp.Command) {
	l, err := msnp.ParseList(cmd.Arg(0))
	if err != nil || l == msnp.ReverseList {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	email, code := checkAccountName(cmd.Arg(1))
	if code != 0 {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	name := email
	if a := cmd.Arg(2); a != "" {
		if name, err = msnp.DecodeName(a); err != nil || len(a) > msnp.MaxEncodedName {
			u.c.sendErr(msnp.CodeInvalidFriendlyName, cmd.TrID)
			return
		}
	}
	gid := 0
	if l == msnp.ForwardList && cmd.Arg(3) != "" {
		if gid, err = strconv.Atoi(cmd.Arg(3)); err != nil {
			u.c.sendErr(msnp.CodeInvalidGroup, cmd.TrID)
			return
		}
	}
	s.listMu.Lock()
	defer s.listMu.Unlock()
	ctx := context.Background()
	if ok, err := s.cfg.Store.Exists(ctx, email); err != nil {
		u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
		return
	} else if !ok {
		u.c.sendErr(msnp.CodeInvalidUser, cmd.TrID)
		return
	}
	bit := l.Bit()
	s.mu.Lock()
	e := copyEntry(u.lists[email], email)
	count := 0
	for _, x := range u.lists {
		if x.Lists&bit != 0 {
			count++
		}
	}
	_, groupOK := groupName(gid, u.groups)
	s.mu.Unlock()
	newFL := false
	switch {
	case l == msnp.ForwardList && !groupOK:
		u.c.sendErr(msnp.CodeInvalidGroup, cmd.TrID)
		return
	case e.Lists&bit != 0 && (l != msnp.ForwardList || slices.Contains(e.Groups, gid)):
		u.c.sendErr(msnp.CodeAlreadyThere, cmd.TrID)
		return
	case l == msnp.AllowList && e.Lists&store.BL != 0, l == msnp.BlockList && e.Lists&store.AL != 0:
		u.c.sendErr(msnp.CodeInOppositeList, cmd.TrID)
		return
	case e.Lists&bit == 0 && count >= s.cfg.MaxListEntries:
		u.c.sendErr(msnp.CodeListFull, cmd.TrID)
		return
	}
	if e.Lists&bit == 0 && l == msnp.ForwardList {
		newFL = true
	}
	e.Lists |= bit
	if l == msnp.ForwardList {
		e.Groups = append(e.Groups, gid)
		e.Name = name
	} else if e.Name == "" {
		e.Name = name
	}
	changes := []store.Change{{Owner: u.email, Contact: e}}
	var peer store.Contact
	var pu *user
	if newFL && email == u.email {
		e.Lists |= store.RL
		changes[0].Contact = e
	} else if newFL {
		if peer, pu, err = s.peerEntry(email, u.email); err != nil {
			u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
			return
		}
		peer.Lists |= store.RL
		s.mu.Lock()
		peer.Name = u.name
		s.mu.Unlock()
		changes = append(changes, store.Change{Owner: email, Contact: peer})
	}
	s.commit(u, cmd, changes, func(vers map[string]int) []outMsg {
		ver := strconv.Itoa(vers[u.email])
		args := []string{string(l), ver, email, msnp.EncodeName(e.Name)}
		if l == msnp.ForwardList {
			args = append(args, strconv.Itoa(gid))
		}
		outs := []outMsg{{u.c, msnp.New("ADD", cmd.TrID, args...)}}
		if newFL && pu != nil && pu != u && s.users[email] == pu {
			outs = append(outs, outMsg{pu.c, msnp.New("ADD", 0, "RL", strconv.Itoa(vers[email]), u.email, msnp.EncodeName(u.name))})
			if u.status != "" {
				if st := seenBy(pu, u.email); st != msnp.StatusOffline {
					outs = append(outs, outMsg{u.c, msnp.New("NLN", msnp.NoTrID, string(st), pu.email, msnp.EncodeName(pu.name))})
				}
			}
		}
		return outs
	}, pu)
}

// commit writes changes, applies them to the signed-in users u and peer,
// and sends the replies built by reply plus presence changes of u. Caller
// holds s.listMu.
func (s *Server) commit(u *user, cmd msnp.Command, changes []store.Change, reply func(map[string]int) []outMsg, peer *user) {
	vers, err := s.cfg.Store.Commit(context.Background(), changes...)
	if err != nil {
		s.cfg.Log.Error("list change failed", "account", u.email, "err", err)
		u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
		return
	}
	s.mu.Lock()
	before := s.snapshot(u)
	for _, ch := range changes {
		switch {
		case ch.Owner == u.email:
			apply(u, ch.Contact, vers[u.email])
		case peer != nil && ch.Owner == peer.email && s.users[peer.email] == peer:
			apply(peer, ch.Contact, vers[peer.email])
		}
	}
	outs := reply(vers)
	outs = append(outs, s.diff(u, before)...)
	s.mu.Unlock()
	flush(outs)
}

func (s *Server) rem(u *user, cmd msnp.Command) {
	l, err := msnp.ParseList(cmd.Arg(0))
	if err != nil || l == msnp.ReverseList {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	email, code := checkAccountName(cmd.Arg(1))
	if code != 0 {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	gid := -1
	if l == msnp.ForwardList && cmd.Arg(2) != "" {
		if gid, err = strconv.Atoi(cmd.Arg(2)); err != nil || gid < 0 {
			u.c.sendErr(msnp.CodeInvalidGroup, cmd.TrID)
			return
		}
	}
	s.listMu.Lock()
	defer s.listMu.Unlock()
	bit := l.Bit()
	s.mu.Lock()
	e := copyEntry(u.lists[email], email)
	s.mu.Unlock()
	if e.Lists&bit == 0 {
		u.c.sendErr(msnp.CodeNotOnList, cmd.TrID)
		return
	}
	removeFL := l == msnp.ForwardList
	if gid >= 0 {
		i := slices.Index(e.Groups, gid)
		if i < 0 {
			u.c.sendErr(msnp.CodeNotInGroup, cmd.TrID)
			return
		}
		e.Groups = slices.Delete(e.Groups, i, i+1)
		removeFL = len(e.Groups) == 0
	}
	if removeFL || l != msnp.ForwardList {
		e.Lists &^= bit
	}
	if removeFL {
		e.Groups = nil
	}
	changes := []store.Change{{Owner: u.email, Contact: e}}
	var pu *user
	if removeFL && email == u.email {
		e.Lists &^= store.RL
		changes[0].Contact = e
	} else if removeFL {
		var peer store.Contact
		if peer, pu, err = s.peerEntry(email, u.email); err != nil {
			u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
			return
		}
		if peer.Lists&store.RL != 0 {
			peer.Lists &^= store.RL
			changes = append(changes, store.Change{Owner: email, Contact: peer})
		} else {
			pu = nil
		}
	}
	s.commit(u, cmd, changes, func(vers map[string]int) []outMsg {
		args := []string{string(l), strconv.Itoa(vers[u.email]), email}
		if gid >= 0 {
			args = append(args, strconv.Itoa(gid))
		}
		outs := []outMsg{{u.c, msnp.New("REM", cmd.TrID, args...)}}
		if pu != nil && s.users[email] == pu {
			outs = append(outs, outMsg{pu.c, msnp.New("REM", 0, "RL", strconv.Itoa(vers[email]), u.email)})
		}
		return outs
	}, pu)
}

func (s *Server) setMode(u *user, cmd msnp.Command) {
	v := cmd.Arg(0)
	field := "blp"
	valid := v == msnp.PrivacyAllow || v == msnp.PrivacyBlock
	if cmd.Name == "GTC" {
		field = "gtc"
		valid = v == "A" || v == "N"
	}
	if !valid {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	s.listMu.Lock()
	defer s.listMu.Unlock()
	ver, err := s.cfg.Store.SetProfile(context.Background(), u.email, field, v)
	if err != nil {
		s.cfg.Log.Error("set privacy failed", "account", u.email, "err", err)
		u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
		return
	}
	s.mu.Lock()
	before := s.snapshot(u)
	u.version = ver
	if field == "blp" {
		u.blp = v
	} else {
		u.gtc = v
	}
	outs := []outMsg{{u.c, msnp.New(cmd.Name, cmd.TrID, strconv.Itoa(ver), v)}}
	outs = append(outs, s.diff(u, before)...)
	s.mu.Unlock()
	flush(outs)
}

func (s *Server) rea(u *user, cmd msnp.Command) {
	email, code := checkAccountName(cmd.Arg(0))
	if code != 0 || email != u.email {
		u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
		return
	}
	enc := cmd.Arg(1)
	name, err := msnp.DecodeName(enc)
	if err != nil || enc == "" || len(enc) > msnp.MaxEncodedName {
		u.c.sendErr(msnp.CodeInvalidFriendlyName, cmd.TrID)
		return
	}
	s.listMu.Lock()
	defer s.listMu.Unlock()
	ver, err := s.cfg.Store.SetProfile(context.Background(), u.email, "name", name)
	if err != nil {
		u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
		return
	}
	s.mu.Lock()
	before := s.snapshot(u)
	u.version = ver
	u.name = name
	outs := []outMsg{{u.c, msnp.New("REA", cmd.TrID, strconv.Itoa(ver), u.email, msnp.EncodeName(name))}}
	outs = append(outs, s.diff(u, before)...)
	s.mu.Unlock()
	flush(outs)
}

func (s *Server) group(u *user, cmd msnp.Command) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	ctx := context.Background()
	s.mu.Lock()
	groups := slices.Clone(u.groups)
	s.mu.Unlock()
	switch cmd.Name {
	case "ADG":
		name, err := msnp.DecodeName(cmd.Arg(0))
		if err != nil || name == "" || len(cmd.Arg(0)) > 183 {
			u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
			return
		}
		if len(groups) >= maxGroups {
			u.c.sendErr(msnp.CodeGroupsFull, cmd.TrID)
			return
		}
		id, ver, err := s.cfg.Store.AddGroup(ctx, u.email, name)
		if err != nil {
			u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
			return
		}
		s.mu.Lock()
		u.groups = append(u.groups, store.Group{ID: id, Name: name})
		u.version = ver
		s.mu.Unlock()
		u.c.send(msnp.New("ADG", cmd.TrID, strconv.Itoa(ver), msnp.EncodeName(name), strconv.Itoa(id), "0"))
	case "REG":
		id, err := strconv.Atoi(cmd.Arg(0))
		name, err2 := msnp.DecodeName(cmd.Arg(1))
		if err != nil || err2 != nil || name == "" || len(cmd.Arg(1)) > 183 {
			u.c.sendErr(msnp.CodeInvalidParameter, cmd.TrID)
			return
		}
		i := slices.IndexFunc(groups, func(g store.Group) bool { return g.ID == id })
		if i < 0 {
			u.c.sendErr(msnp.CodeInvalidGroup, cmd.TrID)
			return
		}
		ver, err := s.cfg.Store.RenameGroup(ctx, u.email, id, name)
		if err != nil {
			u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
			return
		}
		s.mu.Lock()
		for j := range u.groups {
			if u.groups[j].ID == id {
				u.groups[j].Name = name
			}
		}
		u.version = ver
		s.mu.Unlock()
		u.c.send(msnp.New("REG", cmd.TrID, strconv.Itoa(ver), strconv.Itoa(id), msnp.EncodeName(name), "0"))
	case "RMG":
		id, err := strconv.Atoi(cmd.Arg(0))
		if err != nil || !slices.ContainsFunc(groups, func(g store.Group) bool { return g.ID == id }) {
			u.c.sendErr(msnp.CodeInvalidGroup, cmd.TrID)
			return
		}
		s.mu.Lock()
		var moved []store.Contact
		for _, e := range u.lists {
			if i := slices.Index(e.Groups, id); i >= 0 {
				c := copyEntry(e, e.Email)
				c.Groups = slices.Delete(c.Groups, i, i+1)
				if len(c.Groups) == 0 && c.Lists&store.FL != 0 {
					c.Groups = []int{0}
				}
				moved = append(moved, c)
			}
		}
		s.mu.Unlock()
		ver, err := s.cfg.Store.RemoveGroup(ctx, u.email, id, moved)
		if err != nil {
			u.c.sendErr(msnp.CodeInternalError, cmd.TrID)
			return
		}
		s.mu.Lock()
		u.groups = slices.DeleteFunc(u.groups, func(g store.Group) bool { return g.ID == id })
		for _, c := range moved {
			apply(u, c, 0)
		}
		u.version = ver
		s.mu.Unlock()
		u.c.send(msnp.New("RMG", cmd.TrID, strconv.Itoa(ver), strconv.Itoa(id)))
	}
}

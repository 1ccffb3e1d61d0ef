package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// List bits as in MSNP LST masks.
const (
	FL = 1
	AL = 2
	BL = 4
	RL = 8
)

// Contact is one entry of an account's lists.
type Contact struct {
	Email  string
	Name   string // friendly name, plain text
	Lists  int    // bit mask of FL AL BL RL
	Groups []int  // group ids (FL only)
}

// Group is a contact group.
type Group struct {
	ID   int
	Name string
}

// Account is an account's profile, settings and lists.
type Account struct {
	Email    string
	Name     string
	Version  int    // list version, increased by every change
	BLP      string // "AL" or "BL"
	GTC      string // "A" or "N"
	Groups   []Group
	Contacts []Contact
}

// Load reads an account with its groups and contacts.
func (s *Store) Load(ctx context.Context, email string) (*Account, error) {
	a := &Account{Email: strings.ToLower(email)}
	err := s.db.QueryRowContext(ctx, `SELECT name, version, blp, gtc FROM accounts WHERE email=?`, a.Email).Scan(&a.Name, &a.Version, &a.BLP, &a.GTC)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: load %s: %w", email, ErrNoUser)
	}
	if err != nil {
		return nil, fmt.Errorf("store: load %s: %w", email, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name FROM groups WHERE owner=? ORDER BY id`, a.Email)
	if err != nil {
		return nil, fmt.Errorf("store: load groups: %w", err)
	}
	for rows.Next() {
		var g Group
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			rows.Close()
			return nil, err
		}
		a.Groups = append(a.Groups, g)
	}
	rows.Close()
	rows, err = s.db.QueryContext(ctx, `SELECT contact, name, lists, groups FROM contacts WHERE owner=? ORDER BY rowid`, a.Email)
	if err != nil {
		return nil, fmt.Errorf("store: load contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c Contact
		var gs string
		if err := rows.Scan(&c.Email, &c.Name, &c.Lists, &gs); err != nil {
			return nil, err
		}
		c.Groups = parseGroups(gs)
		a.Contacts = append(a.Contacts, c)
	}
	return a, rows.Err()
}

func parseGroups(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func formatGroups(gs []int) string {
	var b strings.Builder
	for i, g := range gs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(g))
	}
	return b.String()
}

// bump increments an account's list version inside tx and returns it.
func bump(ctx context.Context, tx *sql.Tx, email string) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, `UPDATE accounts SET version=version+1 WHERE email=? RETURNING version`, email).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: %s: %w", email, ErrNoUser)
	}
	return v, err
}

// putContact writes (or deletes, when lists is 0) one contact row inside tx.
func putContact(ctx context.Context, tx *sql.Tx, owner string, c Contact) error {
	if c.Lists == 0 {
		_, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE owner=? AND contact=?`, owner, c.Email)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO contacts(owner,contact,name,lists,groups) VALUES(?,?,?,?,?)
		ON CONFLICT(owner,contact) DO UPDATE SET name=excluded.name, lists=excluded.lists, groups=excluded.groups`,
		owner, c.Email, c.Name, c.Lists, formatGroups(c.Groups))
	return err
}

// Change is one contact-list change to commit atomically.
type Change struct {
	Owner   string
	Contact Contact // the full new state of the entry (Lists 0 deletes it)
}

// Commit writes the changes in one transaction and returns the new list
// version of every owner touched (each owner's version increases by one).
func (s *Store) Commit(ctx context.Context, changes ...Change) (map[string]int, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	defer tx.Rollback()
	vers := map[string]int{}
	for _, ch := range changes {
		if err := putContact(ctx, tx, ch.Owner, ch.Contact); err != nil {
			return nil, fmt.Errorf("store: commit: %w", err)
		}
		if _, ok := vers[ch.Owner]; !ok {
			v, err := bump(ctx, tx, ch.Owner)
			if err != nil {
				return nil, fmt.Errorf("store: commit: %w", err)
			}
			vers[ch.Owner] = v
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	return vers, nil
}

// SetProfile updates one of an account's fields: "name", "blp" or "gtc",
// and returns the new list version.
func (s *Store) SetProfile(ctx context.Context, email, field, value string) (int, error) {
	var col string
	switch field {
	case "name", "blp", "gtc":
		col = field
	default:
		return 0, fmt.Errorf("store: set profile: unknown field %q", field)
	}
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: set %s: %w", field, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET `+col+`=? WHERE email=?`, value, email); err != nil {
		return 0, fmt.Errorf("store: set %s: %w", field, err)
	}
	v, err := bump(ctx, tx, email)
	if err != nil {
		return 0, err
	}
	return v, tx.Commit()
}

// AddGroup creates a group and returns its id and the new list version.
func (s *Store) AddGroup(ctx context.Context, email, name string) (id, version int, err error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store: add group: %w", err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id),0)+1 FROM groups WHERE owner=?`, email).Scan(&id); err != nil {
		return 0, 0, fmt.Errorf("store: add group: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO groups(owner,id,name) VALUES(?,?,?)`, email, id, name); err != nil {
		return 0, 0, fmt.Errorf("store: add group: %w", err)
	}
	if version, err = bump(ctx, tx, email); err != nil {
		return 0, 0, err
	}
	return id, version, tx.Commit()
}

// RenameGroup renames a group and returns the new list version.
func (s *Store) RenameGroup(ctx context.Context, email string, id int, name string) (int, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: rename group: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE groups SET name=? WHERE owner=? AND id=?`, name, email, id); err != nil {
		return 0, fmt.Errorf("store: rename group: %w", err)
	}
	v, err := bump(ctx, tx, email)
	if err != nil {
		return 0, err
	}
	return v, tx.Commit()
}

// RemoveGroup deletes a group, moves its contacts out of it (given as their
// new states) and returns the new list version.
func (s *Store) RemoveGroup(ctx context.Context, email string, id int, moved []Contact) (int, error) {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: remove group: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE owner=? AND id=?`, email, id); err != nil {
		return 0, fmt.Errorf("store: remove group: %w", err)
	}
	for _, c := range moved {
		if err := putContact(ctx, tx, email, c); err != nil {
			return 0, fmt.Errorf("store: remove group: %w", err)
		}
	}
	v, err := bump(ctx, tx, email)
	if err != nil {
		return 0, err
	}
	return v, tx.Commit()
}

// Entry returns owner's entry for contact; Lists is 0 when there is none.
func (s *Store) Entry(ctx context.Context, owner, contact string) (Contact, error) {
	c := Contact{Email: contact}
	var gs string
	err := s.db.QueryRowContext(ctx, `SELECT name, lists, groups FROM contacts WHERE owner=? AND contact=?`, owner, contact).Scan(&c.Name, &c.Lists, &gs)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("store: read entry: %w", err)
	}
	c.Groups = parseGroups(gs)
	return c, nil
}

// Name returns an account's friendly name.
func (s *Store) Name(ctx context.Context, email string) (string, error) {
	var n string
	err := s.db.QueryRowContext(ctx, `SELECT name FROM accounts WHERE email=?`, email).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: %s: %w", email, ErrNoUser)
	}
	return n, err
}

// Package store keeps messengerd's accounts, contact lists, privacy settings
// and server settings in an embedded SQLite database (modernc.org/sqlite, WAL
// journal, synchronous=NORMAL: every committed change survives a crash or
// kill -9 of the service). Passwords are stored as PBKDF2-SHA256 hashes with
// a per-user random salt.
package store

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// Iterations is the PBKDF2-SHA256 iteration count for new password hashes.
const Iterations = 24000

// FileName is the database file inside the data directory.
const FileName = "messengerd.db"

// Sentinel errors.
var (
	ErrNoUser      = errors.New("store: no such account")
	ErrExists      = errors.New("store: account already exists")
	ErrBadPassword = errors.New("store: wrong password")
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db  *sql.DB // reads (several connections; WAL readers never wait for the writer)
	wdb *sql.DB // writes (one connection, so writers queue in Go instead of sleeping on SQLITE_BUSY)
}

const schema = `
CREATE TABLE IF NOT EXISTS accounts (
	email      TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	salt       BLOB NOT NULL,
	hash       BLOB NOT NULL,
	iterations INTEGER NOT NULL,
	version    INTEGER NOT NULL DEFAULT 0,
	blp        TEXT NOT NULL DEFAULT 'AL',
	gtc        TEXT NOT NULL DEFAULT 'A',
	created    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
	owner TEXT NOT NULL REFERENCES accounts(email) ON DELETE CASCADE,
	id    INTEGER NOT NULL,
	name  TEXT NOT NULL,
	PRIMARY KEY (owner, id)
);
CREATE TABLE IF NOT EXISTS contacts (
	owner   TEXT NOT NULL REFERENCES accounts(email) ON DELETE CASCADE,
	contact TEXT NOT NULL,
	name    TEXT NOT NULL,
	lists   INTEGER NOT NULL,
	groups  TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (owner, contact)
);
CREATE INDEX IF NOT EXISTS contacts_contact ON contacts(contact);
CREATE TABLE IF NOT EXISTS settings (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
);
`

// Open opens (creating if needed) the database in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.Join(dir, FileName) + "?" + q.Encode()
	wdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	wdb.SetMaxOpenConns(1)
	if _, err := wdb.Exec(schema); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: create schema (is the directory writable and the file a messengerd database?): %w", dir, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	s := &Store{db: db, wdb: wdb}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.db.Close()
	if werr := s.wdb.Close(); err == nil {
		err = werr
	}
	return err
}

// NormalizeEmail lower-cases an account name and checks its shape.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(e, " \t\r\n%") || len(e) > 129 || strings.Count(e, "@") != 1 || !strings.Contains(domain, ".") {
		return "", fmt.Errorf("store: %q is not an account name (want name@domain.tld)", email)
	}
	return e, nil
}

func hashPassword(password string, salt []byte, iter int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, salt, iter, 32)
}

// AddUser creates an account with the given password and friendly name
// (plain text, not URL-encoded; empty means the account name).
func (s *Store) AddUser(ctx context.Context, email, password, name string) error {
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if password == "" {
		return errors.New("store: add user: empty password (give a password on standard input)")
	}
	if name == "" {
		name = e
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	h, err := hashPassword(password, salt, Iterations)
	if err != nil {
		return fmt.Errorf("store: add user: %w", err)
	}
	_, err = s.wdb.ExecContext(ctx, `INSERT INTO accounts(email,name,salt,hash,iterations,created) VALUES(?,?,?,?,?,?)`,
		e, name, salt, h, Iterations, time.Now().Unix())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "PRIMARY KEY") {
			return fmt.Errorf("store: add user %s: %w", e, ErrExists)
		}
		return fmt.Errorf("store: add user %s: %w", e, err)
	}
	return nil
}

// SetPassword replaces an account's password.
func (s *Store) SetPassword(ctx context.Context, email, password string) error {
	salt := make([]byte, 16)
	rand.Read(salt)
	h, err := hashPassword(password, salt, Iterations)
	if err != nil {
		return err
	}
	res, err := s.wdb.ExecContext(ctx, `UPDATE accounts SET salt=?, hash=?, iterations=? WHERE email=?`, salt, h, Iterations, strings.ToLower(email))
	if err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set password for %s: %w", email, ErrNoUser)
	}
	return nil
}

// CheckPassword verifies an account's password. It returns the normalized
// account name, or an error wrapping ErrBadPassword (also for unknown
// accounts, after the same amount of work).
func (s *Store) CheckPassword(ctx context.Context, email, password string) (string, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return "", fmt.Errorf("store: check password: %w", ErrBadPassword)
	}
	var salt, want []byte
	var iter int
	err = s.db.QueryRowContext(ctx, `SELECT salt, hash, iterations FROM accounts WHERE email=?`, e).Scan(&salt, &want, &iter)
	if errors.Is(err, sql.ErrNoRows) {
		hashPassword(password, make([]byte, 16), Iterations)
		return "", fmt.Errorf("store: check password: %w", ErrBadPassword)
	}
	if err != nil {
		return "", fmt.Errorf("store: check password: %w", err)
	}
	got, err := hashPassword(password, salt, iter)
	if err != nil {
		return "", fmt.Errorf("store: check password: %w", err)
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return "", fmt.Errorf("store: check password: %w", ErrBadPassword)
	}
	return e, nil
}

// Exists reports whether an account exists.
func (s *Store) Exists(ctx context.Context, email string) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM accounts WHERE email=?`, strings.ToLower(email)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: lookup: %w", err)
	}
	return n > 0, nil
}

// Users lists all account names in order.
func (s *Store) Users(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT email FROM accounts ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Setting returns a server setting, or nil when unset.
func (s *Store) Setting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read setting %s: %w", key, err)
	}
	return v, nil
}

// SetSetting stores a server setting.
func (s *Store) SetSetting(ctx context.Context, key string, value []byte) error {
	_, err := s.wdb.ExecContext(ctx, `INSERT INTO settings(key,value) VALUES(?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store: write setting %s: %w", key, err)
	}
	return nil
}

package sipaccount

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/oemkit/messenger/internal/fsutil"
)

// MaxContacts bounds the watched contacts (and the contacts file).
const MaxContacts = 1000

// maxContactsFile bounds the contacts file's size.
const maxContactsFile = MaxContacts * (MaxURI + 8)

// ParseContacts reads a contacts file: a JSON array of SIP URIs.
func ParseContacts(b []byte) ([]string, error) {
	if len(b) > maxContactsFile {
		return nil, fmt.Errorf("sipaccount: contacts file of %d bytes (limit %d)", len(b), maxContactsFile)
	}
	var uris []string
	if err := json.Unmarshal(b, &uris); err != nil {
		return nil, fmt.Errorf("sipaccount: contacts file: want a JSON array of sip: URIs: %v", err)
	}
	if len(uris) > MaxContacts {
		return nil, fmt.Errorf("sipaccount: contacts file lists %d contacts (limit %d)", len(uris), MaxContacts)
	}
	for _, u := range uris {
		if err := checkURI(u); err != nil {
			return nil, fmt.Errorf("sipaccount: contacts file: %w", err)
		}
	}
	return uris, nil
}

// loadContacts reads the contacts file; a missing one is an empty list.
func loadContacts(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxContactsFile+1))
	if err != nil {
		return nil, err
	}
	uris, err := ParseContacts(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s: remove it to start with no contacts)", err, path)
	}
	return uris, nil
}

// saveContacts writes the watched contacts atomically; a.mu is held.
func (a *Account) saveContacts() error {
	if a.cfg.ContactsFile == "" {
		return nil
	}
	uris := make([]string, 0, len(a.contacts))
	for u := range a.contacts {
		uris = append(uris, u)
	}
	slices.Sort(uris)
	b, err := json.Marshal(uris)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(a.cfg.ContactsFile, b, 0o600); err != nil {
		return fmt.Errorf("sipaccount: saving the contacts: %w", err)
	}
	return nil
}

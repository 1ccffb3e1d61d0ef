package update

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Downgrade protection. Every image carries a version, the design's
// update.version setting (a build number such as "42", or dotted numbers
// such as "1.4.2"); sysgen update copies it into the bundle's signed
// header, so it cannot be changed without the OEM key. The device refuses a
// bundle older than the system it runs, or than the other slot when that
// slot holds a good (marked-good) system, unless the running design sets
// update.allow_downgrade. A bundle of the same version is taken (a
// reinstall). A slot written by an update keeps its version in
// slot-S/version on the ESP.

// VersionFile is the file in a slot's folder holding its version.
const VersionFile = "version"

// ErrDowngrade is wrapped when a bundle is older than the device's system.
var ErrDowngrade = errors.New("update: downgrade refused")

// Version is a parsed version: dotted non-negative integers.
type Version []uint64

const (
	maxVersionParts = 4
	maxVersionText  = 64
)

// ParseVersion reads a version: "" is "0" (a design that never set
// update.version), else up to four dot-separated decimal numbers of at
// most nine digits each.
func ParseVersion(s string) (Version, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Version{0}, nil
	}
	if len(s) > maxVersionText {
		return nil, fmt.Errorf("update: version %.20q... is longer than %d characters", s, maxVersionText)
	}
	parts := strings.Split(s, ".")
	if len(parts) > maxVersionParts {
		return nil, fmt.Errorf("update: version %q has %d parts; use at most %d dot-separated numbers (e.g. 1.4.2 or a build number)", s, len(parts), maxVersionParts)
	}
	v := make(Version, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 9 || strings.TrimLeft(p, "0123456789") != "" {
			return nil, fmt.Errorf("update: version %q: part %q is not a number of 1 to 9 digits; use dot-separated numbers (e.g. 1.4.2 or a build number)", s, p)
		}
		n, _ := strconv.ParseUint(p, 10, 64)
		v[i] = n
	}
	return v, nil
}

// Compare returns -1, 0 or 1 as v is older than, the same as or newer than
// w; missing parts count as 0 (1.4 is 1.4.0).
func (v Version) Compare(w Version) int {
	for i := 0; i < max(len(v), len(w)); i++ {
		var a, b uint64
		if i < len(v) {
			a = v[i]
		}
		if i < len(w) {
			b = w[i]
		}
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
	}
	return 0
}

// CheckVersion decides whether a bundle of version bundle may be
// installed on a device running version running whose other slot holds a
// good system of version other ("" when that slot is empty, failed or
// unversioned). It returns an error wrapping ErrDowngrade that names both
// versions when the bundle is older and allow is false.
func CheckVersion(bundle, running, other string, allow bool) error {
	bv, err := ParseVersion(bundle)
	if err != nil {
		return fmt.Errorf("%w (the bundle's signed version)", err)
	}
	check := func(have, what string) error {
		if have == "" && what == "the other slot" {
			return nil
		}
		hv, err := ParseVersion(have)
		if err != nil {
			return fmt.Errorf("%w (%s)", err, what)
		}
		if bv.Compare(hv) < 0 && !allow {
			return fmt.Errorf("%w: the bundle is version %s and %s is version %s; build the image with a higher update.version, or set update.allow_downgrade = true in the running design to allow going back",
				ErrDowngrade, shown(bundle), what, shown(have))
		}
		return nil
	}
	if err := check(running, "the running system"); err != nil {
		return err
	}
	return check(other, "the other slot")
}

func shown(v string) string {
	if strings.TrimSpace(v) == "" {
		return "0 (unset)"
	}
	return strings.TrimSpace(v)
}

// VersionText is v as a slot's version file holds it ("0" for unset).
func VersionText(v string) string {
	if v = strings.TrimSpace(v); v == "" {
		return "0"
	}
	return v
}

// SlotVersion reads the version an update wrote into slot on the ESP;
// "" when the slot has none (never updated, or flashed).
func SlotVersion(esp, slot string) (string, error) {
	b, err := os.ReadFile(filepath.Join(esp, "slot-"+slot, VersionFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("update: read slot %s's version: %w", slot, err)
	}
	if len(b) > maxVersionText+1 {
		return "", fmt.Errorf("update: slot %s's version file is %d bytes, not a version", slot, len(b))
	}
	v := strings.TrimSpace(string(b))
	if _, err := ParseVersion(v); err != nil {
		return "", err
	}
	return v, nil
}

// OtherVersion is the version of the other slot's system when it is good
// (its loader entry has no boot counter), for CheckVersion; "" otherwise.
func OtherVersion(esp, running string) (string, error) {
	ents, err := Entries(esp)
	if err != nil {
		return "", err
	}
	o, ok := Find(ents, Other(running))
	if !ok || !o.Good() {
		return "", nil
	}
	return SlotVersion(esp, o.Slot)
}

package msnftp

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name limits.
const (
	// MaxNameBytes bounds a name made by SafeName, leaving room in the
	// 255-byte file name limit for a " (NNNN)" suffix.
	MaxNameBytes = 200
	// maxExtBytes is the longest extension SafeName keeps when shortening.
	maxExtBytes = 16
	// maxNumbered bounds the numbered names tried for one file.
	maxNumbered = 9999
	// DefaultName replaces a peer file name with nothing usable in it.
	DefaultName = "received file"
)

// SafeName reduces a file name chosen by a peer to a base name that is safe
// to create inside the downloads folder: valid UTF-8; no path of either
// kind (only the last "/" or "\" component is kept, a drive "C:" dropped);
// control, bidi-override and characters reserved on FAT/NTFS replaced by
// "_"; no leading dots or spaces, no trailing dots or spaces; not "", "."
// or ".." (DefaultName instead); at most MaxNameBytes bytes, shortened
// before the extension so that the extension survives.
func SafeName(name string) string {
	name = strings.ToValidUTF8(name, "_")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			b.WriteByte('_')
		case strings.ContainsRune(`<>:"|?*`, r):
			b.WriteByte('_')
		case unicode.Is(unicode.Bidi_Control, r) || r == '\ufeff' || r == '\ufffe':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	name = strings.TrimLeft(b.String(), ". ")
	name = strings.TrimRight(name, ". ")
	if name == "" {
		return DefaultName
	}
	if len(name) > MaxNameBytes {
		stem, ext := splitExt(name)
		if len(ext) > maxExtBytes {
			stem, ext = name, ""
		}
		stem = truncateUTF8(stem, MaxNameBytes-len(ext))
		name = strings.TrimRight(stem, ". ") + ext
	}
	return name
}

// splitExt splits "a.b.txt" into "a.b" and ".txt"; a name without a dot
// (after its first byte) has no extension.
func splitExt(name string) (stem, ext string) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 {
		return name, ""
	}
	return name[:i], name[i:]
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// numberedName returns "stem (n).ext" for n > 0 and name itself for n == 0.
func numberedName(name string, n int) string {
	if n == 0 {
		return name
	}
	stem, ext := splitExt(name)
	return stem + " (" + strconv.Itoa(n) + ")" + ext
}

// placeFile moves the finished temporary file tmp into dir under name, or
// the first free numbered variant of name, never replacing a file. It
// returns the final path.
func placeFile(tmp, dir, name string) (string, error) {
	for n := 0; n <= maxNumbered; n++ {
		final := filepath.Join(dir, numberedName(name, n))
		err := renameNoReplace(tmp, final)
		if err == nil {
			return final, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", fmt.Errorf("msnftp: move into %s: %w", dir, err)
		}
	}
	return "", fmt.Errorf("msnftp: %s and %d numbered variants already exist in %s; clean up the downloads folder", name, maxNumbered, dir)
}

// linkUnlink renames without replacing through a hard link.
func linkUnlink(oldpath, newpath string) error {
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	return os.Remove(oldpath)
}

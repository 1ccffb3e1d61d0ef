package image

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/mkuimage/cpio"
	"github.com/ulikunitz/xz"
)

// Bounds on an initramfs read back from an image folder (outside input: a
// folder someone hands over).
const (
	// MaxInitramfs bounds the uncompressed archive.
	MaxInitramfs = 256 << 20
	// maxEntries bounds the archive's records.
	maxEntries = 1 << 20
	// maxName bounds a record's name (Linux PATH_MAX).
	maxName = 4096
)

// ReadInitramfs returns the regular files of the built image in dir, keyed
// by their absolute path in the image.
func ReadInitramfs(dir string) (map[string][]byte, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	raw, err := decompressFile(filepath.Join(dir, m.Initramfs), m.Compression)
	if err != nil {
		return nil, err
	}
	return readCPIO(raw, m.Initramfs)
}

// readCPIO returns the regular files of a newc archive, keyed by their
// absolute path, cleaned. name is the archive's name for errors. It checks
// every header against the bounds and the archive's length before using
// it, so a hostile header cannot make it allocate more than the archive.
func readCPIO(raw []byte, name string) (map[string][]byte, error) {
	const hdrLen = 110 // "070701" and 13 fields of 8 hex digits
	bad := func(pos int, format string, a ...any) error {
		return fmt.Errorf("image: read %s: entry at byte %d: %s (is it a newc cpio archive this tool made?)", name, pos, fmt.Sprintf(format, a...))
	}
	field := func(h []byte, i int) (uint64, bool) {
		v, err := strconv.ParseUint(string(h[6+8*i:6+8*i+8]), 16, 32)
		return v, err == nil
	}
	out := map[string][]byte{}
	pos := 0
	for n := 0; ; n++ {
		if n >= maxEntries {
			return nil, fmt.Errorf("image: read %s: over %d entries: not an initramfs this tool made", name, maxEntries)
		}
		if len(raw)-pos < hdrLen {
			if n > 0 && pos == len(raw) {
				return nil, fmt.Errorf("image: read %s: archive ends without its trailer (truncated?)", name)
			}
			return nil, bad(pos, "%d bytes left, a header needs %d", len(raw)-pos, hdrLen)
		}
		h := raw[pos : pos+hdrLen]
		if string(h[:6]) != "070701" {
			return nil, bad(pos, "magic %q, want 070701", h[:6])
		}
		mode, ok1 := field(h, 1)
		size, ok2 := field(h, 6)
		nameLen, ok3 := field(h, 11)
		if !ok1 || !ok2 || !ok3 {
			return nil, bad(pos, "header field is not hex")
		}
		if nameLen < 2 || nameLen > maxName+1 {
			return nil, bad(pos, "name length %d, want 1 to %d bytes", int64(nameLen)-1, maxName)
		}
		nameStart := pos + hdrLen
		if uint64(len(raw)-nameStart) < nameLen {
			return nil, bad(pos, "name runs past the end of the archive")
		}
		entry := raw[nameStart : nameStart+int(nameLen)]
		if entry[len(entry)-1] != 0 || bytes.IndexByte(entry[:len(entry)-1], 0) >= 0 {
			return nil, bad(pos, "name is not one NUL-terminated string")
		}
		ename := string(entry[:len(entry)-1])
		if ename == cpio.Trailer {
			break
		}
		dataStart := round4(nameStart + int(nameLen))
		if dataStart > len(raw) || uint64(len(raw)-dataStart) < size {
			return nil, bad(pos, "entry %q claims %d bytes, more than the archive holds", ename, size)
		}
		if mode&0o170000 == 0o100000 { // regular file
			out[path.Clean("/"+ename)] = raw[dataStart : dataStart+int(size) : dataStart+int(size)]
		}
		pos = round4(dataStart + int(size))
		if pos > len(raw) {
			pos = len(raw)
		}
	}
	return out, nil
}

func round4(n int) int { return (n + 3) &^ 3 }

// Unpack writes the regular files of the built image in dir below root
// (symlinks, devices and ownership are not reproduced), to inspect an image
// or try a changed file (a locale, a certificate) the way it would sit on
// the device. root must not exist yet or be empty.
func Unpack(dir, root string) error {
	files, err := ReadInitramfs(dir)
	if err != nil {
		return err
	}
	return writeFiles(files, root)
}

// writeFiles writes files (absolute, clean paths) below root, which must
// not exist yet or be empty.
func writeFiles(files map[string][]byte, root string) error {
	if ents, err := os.ReadDir(root); err == nil && len(ents) > 0 {
		return fmt.Errorf("image: unpack: %s is not empty; pick a new folder", root)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rel := strings.TrimPrefix(name, "/")
		if rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
			return fmt.Errorf("image: unpack: entry %q leaves %s", name, root)
		}
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("image: unpack %s: %w (the image holds a file where %s needs a folder)", name, err, filepath.Dir(name))
		}
		if err := os.WriteFile(p, files[name], 0o755); err != nil {
			return fmt.Errorf("image: unpack: %w", err)
		}
	}
	return nil
}

// decompressFile reads an initramfs compressed with kind (zstd, xz, gzip).
func decompressFile(name, kind string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	defer f.Close()
	var r io.Reader
	switch kind {
	case "zstd", "":
		d, err := zstd.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("image: zstd %s: %w", name, err)
		}
		defer d.Close()
		r = d
	case "xz":
		if r, err = xz.NewReader(f); err != nil {
			return nil, fmt.Errorf("image: xz %s: %w", name, err)
		}
	case "gzip":
		g, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("image: gzip %s: %w", name, err)
		}
		defer g.Close()
		r = g
	default:
		return nil, fmt.Errorf("image: %s: unknown compression %q in the manifest", name, kind)
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxInitramfs+1))
	if err != nil {
		return nil, fmt.Errorf("image: decompress %s: %w", name, err)
	}
	if len(b) > MaxInitramfs {
		return nil, fmt.Errorf("image: %s unpacks to over %d MB: not an initramfs this tool made", name, MaxInitramfs>>20)
	}
	return b, nil
}

package image

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/mkuimage/cpio"
	"github.com/ulikunitz/xz"
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
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("image: read %s: %w", m.Initramfs, err)
	}
	out := map[string][]byte{}
	for _, r := range recs {
		if r.Mode&cpio.S_IFMT != cpio.S_IFREG {
			continue
		}
		b := make([]byte, r.FileSize)
		if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
			return nil, fmt.Errorf("image: read %s from %s: %w", r.Name, m.Initramfs, err)
		}
		out["/"+r.Name] = b
	}
	return out, nil
}

// Unpack writes the regular files of the built image in dir below root
// (symlinks, devices and ownership are not reproduced), to inspect an image
// or try a changed file (a locale, a certificate) the way it would sit on
// the device. root must not exist yet or be empty.
func Unpack(dir, root string) error {
	files, err := ReadInitramfs(dir)
	if err != nil {
		return err
	}
	if ents, err := os.ReadDir(root); err == nil && len(ents) > 0 {
		return fmt.Errorf("image: unpack: %s is not empty; pick a new folder", root)
	}
	for name, b := range files {
		p := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(name, "/")))
		if !strings.HasPrefix(p, filepath.Clean(root)+string(filepath.Separator)) {
			return fmt.Errorf("image: unpack: entry %q leaves %s", name, root)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("image: unpack: %w", err)
		}
		if err := os.WriteFile(p, b, 0o755); err != nil {
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
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("image: decompress %s: %w", name, err)
	}
	return b, nil
}

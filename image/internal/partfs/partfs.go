// Package partfs holds what the disk image writers (image/disk for GPT
// disks, image/sdcard for the Raspberry Pi's MBR card) share: a
// reproducible ext4 state file system, files written into a FAT file
// system in a fixed order, and a partition copied without its zero blocks.
package partfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"

	"github.com/diskfs/go-diskfs/filesystem"
)

// FormatExt4 formats an empty ext4 file system of size bytes labelled
// label in a new file under dir, with mkfs.ext4 (e2fsprogs), the UUID and
// hash seed uuid and the time epoch, so the same inputs give the same
// bytes. It returns the file's name; the caller removes it.
func FormatExt4(dir, label, uuid string, size, epoch int64) (string, error) {
	mkfs, err := exec.LookPath("mkfs.ext4")
	if err != nil {
		if mkfs, err = exec.LookPath("/usr/sbin/mkfs.ext4"); err != nil {
			return "", errors.New("formatting the state partition needs mkfs.ext4: apt-get install e2fsprogs")
		}
	}
	f, err := os.CreateTemp(dir, ".state-*.ext4")
	if err != nil {
		return "", err
	}
	name := f.Name()
	err = f.Truncate(size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		cmd := exec.Command(mkfs, "-q", "-F", "-L", label, "-U", uuid, "-E", "hash_seed="+uuid+",lazy_itable_init=0,lazy_journal_init=0", name)
		cmd.Env = append(os.Environ(), fmt.Sprintf("E2FSPROGS_FAKE_TIME=%d", epoch), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", epoch))
		if out, merr := cmd.CombinedOutput(); merr != nil {
			err = fmt.Errorf("mkfs.ext4: %v: %s", merr, strings.TrimSpace(string(out)))
		}
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

// WriteFiles writes files (absolute slash paths) into fs in name order,
// making their folders first.
func WriteFiles(fs filesystem.FileSystem, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	made := map[string]bool{"/": true}
	for _, n := range names {
		var dirs []string
		for d := path.Dir(n); !made[d]; d = path.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			if err := fs.Mkdir(d); err != nil {
				return fmt.Errorf("folder %s: %w", d, err)
			}
			made[d] = true
		}
		f, err := fs.OpenFile(n, os.O_CREATE|os.O_RDWR)
		if err != nil {
			return fmt.Errorf("file %s: %w", n, err)
		}
		if _, err := f.Write(files[n]); err != nil {
			f.Close()
			return fmt.Errorf("file %s: %w", n, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("file %s: %w", n, err)
		}
	}
	return nil
}

// CopyNonZero writes the blocks of the file src that are not all zero into
// dst at off; dst must read as zero elsewhere (a new sparse image file).
func CopyNonZero(dst *os.File, src string, off int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	buf := make([]byte, 64<<10)
	zero := make([]byte, len(buf))
	for pos := int64(0); ; {
		n, err := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := dst.WriteAt(buf[:n], off+pos); werr != nil {
				return werr
			}
		}
		pos += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

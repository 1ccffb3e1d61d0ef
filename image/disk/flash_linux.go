package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// inspectTarget finds what the target is and how much it holds, and
// refuses a block device the host uses.
func inspectTarget(name, mountInfo string) (*target, error) {
	st, err := os.Stat(name)
	if errors.Is(err, os.ErrNotExist) {
		return fileTarget(name, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	mode := st.Mode()
	switch {
	case mode.IsRegular():
		return fileTarget(name, st.Size())
	case mode&os.ModeDevice != 0 && mode&os.ModeCharDevice == 0:
	default:
		kind := "folder"
		if mode&os.ModeCharDevice != 0 {
			kind = "character device"
		} else if !mode.IsDir() {
			kind = "special file"
		}
		return nil, fmt.Errorf("%w: %s is a %s: give a disk (/dev/sdX, /dev/mmcblkN) or a file name", ErrNotTarget, name, kind)
	}
	var sys unix.Stat_t
	if err := unix.Stat(name, &sys); err != nil {
		return nil, fmt.Errorf("flash: %w", err)
	}
	maj, min := int(unix.Major(uint64(sys.Rdev))), int(unix.Minor(uint64(sys.Rdev)))
	disk := diskOf(maj, min)
	b, err := readBounded(mountInfo, maxMountInfo)
	if err != nil {
		return nil, fmt.Errorf("flash: read the mount table: %w", err)
	}
	mounts, err := ParseMountInfo(b)
	if err != nil {
		return nil, err
	}
	if err := CheckBlock(name, disk, mounts, diskOf); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("flash: open %s: %w (block devices need root)", name, err)
	}
	defer f.Close()
	size, err := unix.IoctlGetInt(int(f.Fd()), unix.BLKGETSIZE64)
	if err != nil {
		return nil, fmt.Errorf("flash: size of %s: %w", name, err)
	}
	return &target{block: true, capacity: int64(size)}, nil
}

// fileTarget is a regular file: it holds its size plus the free space of
// its file system.
func fileTarget(name string, size int64) (*target, error) {
	var fs unix.Statfs_t
	dir := filepath.Dir(name)
	if err := unix.Statfs(dir, &fs); err != nil {
		return nil, fmt.Errorf("flash: %s: %w (does the folder exist?)", dir, err)
	}
	return &target{capacity: size + int64(fs.Bavail)*int64(fs.Bsize)}, nil
}

// diskOf names the whole disk of a block device "MAJOR:MINOR" through
// /sys/dev/block (a partition's parent folder is its disk).
func diskOf(maj, min int) string {
	id := fmt.Sprintf("%d:%d", maj, min)
	p, err := filepath.EvalSymlinks("/sys/dev/block/" + id)
	if err != nil {
		return id
	}
	if _, err := os.Stat(filepath.Join(p, "partition")); err == nil {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(p), "dev")); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return id
}

// dropCache asks the kernel to forget the target's cached pages, so the
// read-back comes from the device.
func dropCache(f *os.File) {
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	unix.IoctlSetInt(int(f.Fd()), unix.BLKFLSBUF, 0)
}

func isNoSpace(err error) bool { return errors.Is(err, unix.ENOSPC) }

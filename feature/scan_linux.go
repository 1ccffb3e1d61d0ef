package feature

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// scan finds and parses the manifests under root with a few goroutines
// that each read whole folders: one open, getdents and close per folder
// (the entry types come with the names, so nothing is stat'ed), and each
// manifest opened relative to its folder and read into a reused buffer.
//
// A folder without sub-folders (a leaf: most item folders) is not opened
// or listed at all where the file system counts sub-folders in a folder's
// link count (ext2/3/4, tmpfs, xfs): one fstatat from the parent shows
// nlink 2, and the manifest is opened as "name/feature.toml" relative to
// the parent. That is four system calls per item folder (fstatat, openat,
// read, close) instead of seven (open, two getdents, openat, read, two
// closes), and they run in parallel with the parsing.
func scan(root string) ([]loaded, error) {
	w := &dirWalker{jobs: make(chan scanJob, 1024)}
	var sfs unix.Statfs_t
	var rs unix.Stat_t
	if unix.Statfs(root, &sfs) == nil && countsSubdirs(int64(sfs.Type)) && unix.Stat(root, &rs) == nil {
		w.leafDev, w.leafOK = rs.Dev, true
	}
	w.pending.Add(1)
	w.jobs <- scanJob{dir: root}
	go func() { w.pending.Wait(); close(w.jobs) }()
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &scanState{dirbuf: make([]byte, 32<<10), filebuf: make([]byte, MaxManifestSize+1)}
			for j := range w.jobs {
				if j.leaves != nil {
					w.leaves(st, j)
				} else {
					w.dir(st, j.dir)
				}
				w.pending.Done()
			}
		}()
	}
	wg.Wait()
	if len(w.errs) > 0 {
		// The first in walk order, as filepath.WalkDir would stop at it.
		first := 0
		for i := range w.errs {
			if comparePaths(w.errs[i].path, w.errs[first].path) < 0 {
				first = i
			}
		}
		return nil, w.errs[first].err
	}
	return w.found, nil
}

// countsSubdirs reports the file systems (by statfs type) whose folders
// have a link count of 2 plus their number of sub-folders.
func countsSubdirs(fsType int64) bool {
	switch fsType {
	case unix.EXT4_SUPER_MAGIC, unix.TMPFS_MAGIC, unix.XFS_SUPER_MAGIC:
		return true
	}
	return false
}

// scanJob is a folder to read, or leaf folders of dir to take manifests
// from through the parent's open fd.
type scanJob struct {
	dir    string
	fd     int
	leaves []string
	refs   *atomic.Int32 // jobs still using fd; the last one closes it
}

type dirWalker struct {
	jobs    chan scanJob
	pending sync.WaitGroup // jobs queued and not yet done

	// leafOK says the root's file system counts sub-folders in nlink;
	// leafDev is its device (a folder on another device is read in full).
	leafOK  bool
	leafDev uint64

	mu    sync.Mutex
	found []loaded
	errs  []loaded // folders that could not be read
}

type scanState struct {
	dirbuf, filebuf []byte
}

// leafChunk is how many leaf folders one job takes, so a folder with
// thousands of item folders is spread over the goroutines.
const leafChunk = 64

// dir reads one folder: its manifest is parsed, its sub-folders queued
// (or read here when the queue is full).
func (w *dirWalker) dir(st *scanState, dir string) {
	fd, err := openDir(dir)
	if err != nil {
		w.fail(dir, err)
		return
	}
	var subdirs, leaves []string
	manifest := false
	err = readDirents(fd, st.dirbuf, func(name string, typ byte) {
		if typ != syscall.DT_DIR && typ != syscall.DT_UNKNOWN {
			if name == ManifestName {
				manifest = true
			}
			return
		}
		if typ == syscall.DT_DIR && skipDir(name) {
			return
		}
		var s unix.Stat_t
		statted := false
		if typ == syscall.DT_UNKNOWN || w.leafOK {
			statted = fstatat(fd, name, &s) == nil
			if typ == syscall.DT_UNKNOWN {
				if !statted || s.Mode&syscall.S_IFMT != syscall.S_IFDIR {
					if name == ManifestName {
						manifest = true
					}
					return
				}
				if skipDir(name) {
					return
				}
			}
		}
		// A leaf: a folder on the root's device with no sub-folders,
		// readable by all (one the loader may not list is read in full,
		// so that it fails as it would without this shortcut).
		if w.leafOK && statted && s.Dev == w.leafDev && s.Nlink == 2 && s.Mode&0o444 == 0o444 && s.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			leaves = append(leaves, name)
			return
		}
		subdirs = append(subdirs, filepath.Join(dir, name))
	})
	if err != nil {
		syscall.Close(fd)
		w.fail(dir, &os.PathError{Op: "readdirent", Path: dir, Err: err})
		return
	}
	if manifest {
		path := filepath.Join(dir, ManifestName)
		it, err := st.load(fd, ManifestName, path)
		w.add(path, it, err)
	}
	// The leaves are shared out in chunks that keep fd open; the last
	// chunk done closes it.
	refs := new(atomic.Int32)
	refs.Store(1)
	for len(leaves) > 0 {
		n := min(len(leaves), leafChunk)
		j := scanJob{dir: dir, fd: fd, leaves: leaves[:n:n], refs: refs}
		leaves = leaves[n:]
		refs.Add(1)
		w.pending.Add(1)
		select {
		case w.jobs <- j:
		default:
			w.leaves(st, j)
			w.pending.Done()
		}
	}
	if refs.Add(-1) == 0 {
		syscall.Close(fd)
	}
	for _, sub := range subdirs {
		w.pending.Add(1)
		select {
		case w.jobs <- scanJob{dir: sub}:
		default:
			w.dir(st, sub)
			w.pending.Done()
		}
	}
}

// leaves loads the manifests of leaf folders of j.dir, opened relative to
// the parent's fd.
func (w *dirWalker) leaves(st *scanState, j scanJob) {
	for _, name := range j.leaves {
		rel := name + "/" + ManifestName
		path := filepath.Join(j.dir, rel)
		it, err := st.load(j.fd, rel, path)
		if errors.Is(err, syscall.ENOENT) {
			// No manifest, unless a dangling symlink stands in for one:
			// that is an error, as when the folder is listed.
			var s unix.Stat_t
			if fstatat(j.fd, rel, &s) != nil {
				continue
			}
		}
		w.add(path, it, err)
	}
	if j.refs.Add(-1) == 0 {
		syscall.Close(j.fd)
	}
}

func (w *dirWalker) add(path string, it *Item, err error) {
	w.mu.Lock()
	w.found = append(w.found, loaded{path, it, err})
	w.mu.Unlock()
}

func (w *dirWalker) fail(path string, err error) {
	w.mu.Lock()
	w.errs = append(w.errs, loaded{path: path, err: err})
	w.mu.Unlock()
}

// load reads the manifest rel (relative to the folder dirfd) and parses
// it; path is its name for messages.
func (st *scanState) load(dirfd int, rel, path string) (*Item, error) {
	fd, err := openat(dirfd, rel, syscall.O_RDONLY|syscall.O_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	// A read of a regular file returns at least a page unless it reached
	// the end: a shorter one is the whole file, and no second read is made
	// to see EOF (manifests are mostly under a page).
	n := 0
	for n < len(st.filebuf) {
		m, err := syscall.Read(fd, st.filebuf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return nil, fmt.Errorf("catalog: reading %s: %w", path, err)
		}
		n += m
		if m == 0 || (m < len(st.filebuf)-n && n < 4096) {
			break
		}
	}
	syscall.Close(fd)
	// A copy: the decoders may keep pieces of their input.
	it, err := Parse(path, bytes.Clone(st.filebuf[:n]))
	if err != nil {
		return nil, err
	}
	it.File = path
	it.Dir = filepath.Dir(path)
	return it, nil
}

func openDir(path string) (int, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			if err != nil {
				return -1, &os.PathError{Op: "open", Path: path, Err: err}
			}
			return fd, nil
		}
	}
}

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := syscall.Openat(dirfd, name, flags, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}

// fstatat stats name in the folder dirfd without following a symlink
// (only for file systems that leave d_type unknown).
func fstatat(dirfd int, name string, s *unix.Stat_t) error {
	return unix.Fstatat(dirfd, name, s, unix.AT_SYMLINK_NOFOLLOW)
}

// readDirents calls f for every entry of the open folder fd but "." and
// "..", with its d_type.
func readDirents(fd int, buf []byte, f func(name string, typ byte)) error {
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		b := buf[:n]
		for len(b) > 0 {
			// struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name.
			if len(b) < 19 {
				return errors.New("short directory entry")
			}
			reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
			if reclen < 19 || reclen > len(b) {
				return errors.New("bad directory entry length")
			}
			typ := b[18]
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if s := string(name); s != "." && s != ".." {
				f(s, typ)
			}
		}
	}
}

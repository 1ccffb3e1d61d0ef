package feature

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// scan finds and parses the manifests under root with a few goroutines
// that each read whole folders: one open, getdents and close per folder
// (the entry types come with the names, so nothing is stat'ed), and each
// manifest opened relative to its folder and read into a reused buffer.
// Roughly half the system calls of filepath.WalkDir plus os.Open, and they
// run in parallel with the parsing.
func scan(root string) ([]loaded, error) {
	w := &dirWalker{jobs: make(chan string, 1024)}
	w.pending.Add(1)
	w.jobs <- root
	go func() { w.pending.Wait(); close(w.jobs) }()
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &scanState{dirbuf: make([]byte, 32<<10), filebuf: make([]byte, MaxManifestSize+1)}
			for dir := range w.jobs {
				w.dir(st, dir)
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

type dirWalker struct {
	jobs    chan string
	pending sync.WaitGroup // folders queued and not yet read

	mu    sync.Mutex
	found []loaded
	errs  []loaded // folders that could not be read
}

type scanState struct {
	dirbuf, filebuf []byte
}

// dir reads one folder: its manifest is parsed, its sub-folders queued
// (or read here when the queue is full).
func (w *dirWalker) dir(st *scanState, dir string) {
	fd, err := openDir(dir)
	if err != nil {
		w.fail(dir, err)
		return
	}
	var subdirs []string
	manifest := false
	err = readDirents(fd, st.dirbuf, func(name string, typ byte) {
		if typ == syscall.DT_UNKNOWN {
			var s unix.Stat_t
			if fstatat(fd, name, &s) == nil && s.Mode&syscall.S_IFMT == syscall.S_IFDIR {
				typ = syscall.DT_DIR
			}
		}
		switch {
		case typ == syscall.DT_DIR:
			if !skipDir(name) {
				subdirs = append(subdirs, filepath.Join(dir, name))
			}
		case name == ManifestName:
			manifest = true
		}
	})
	if err != nil {
		syscall.Close(fd)
		w.fail(dir, &os.PathError{Op: "readdirent", Path: dir, Err: err})
		return
	}
	if manifest {
		path := filepath.Join(dir, ManifestName)
		it, err := st.load(fd, path)
		w.mu.Lock()
		w.found = append(w.found, loaded{path, it, err})
		w.mu.Unlock()
	}
	syscall.Close(fd)
	for _, sub := range subdirs {
		w.pending.Add(1)
		select {
		case w.jobs <- sub:
		default:
			w.dir(st, sub)
			w.pending.Done()
		}
	}
}

func (w *dirWalker) fail(path string, err error) {
	w.mu.Lock()
	w.errs = append(w.errs, loaded{path: path, err: err})
	w.mu.Unlock()
}

// load reads the manifest name in the folder dirfd and parses it; path is
// its name for messages.
func (st *scanState) load(dirfd int, path string) (*Item, error) {
	fd, err := openat(dirfd, ManifestName, syscall.O_RDONLY|syscall.O_CLOEXEC)
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

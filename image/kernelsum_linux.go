package image

import (
	"fmt"
	"os"
	"syscall"
)

// fileIdentity is what changes when a file is replaced or written: device,
// inode, size, mtime and ctime (nanoseconds); "" when unknown.
func fileIdentity(fi os.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("v1:%d:%d:%d:%d.%09d:%d.%09d", st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
}

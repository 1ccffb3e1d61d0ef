package partfs

import (
	"os"
	"strconv"
	"sync"
)

// epochMu serialises the FAT writers that need a fixed time stamp.
var epochMu sync.Mutex

// WithEpoch runs fn, which creates and writes a go-diskfs FAT file system,
// with every time stamp go-diskfs writes fixed at epoch (Unix seconds).
//
// go-diskfs v1.9.4 takes the time of every new directory entry, of the
// "." and ".." entries of new folders and of the volume label from one
// place only, the SOURCE_DATE_EPOCH environment variable
// (util/timestamp.GetTime); Chtimes can reset files and folders afterwards
// but not the dot entries or the label, and there is no option or clock to
// pass. So the variable cannot be avoided; it is confined instead: set only
// for the duration of fn, one writer at a time, and unset again after.
// A SOURCE_DATE_EPOCH the user already set is left as it is and wins, as
// reproducible-build tools expect. While fn runs, other goroutines of the
// process (and programs they start) see the variable too: callers run no
// time-sensitive work concurrently with an image write.
func WithEpoch(epoch int64, fn func() error) error {
	epochMu.Lock()
	defer epochMu.Unlock()
	if os.Getenv("SOURCE_DATE_EPOCH") != "" {
		return fn()
	}
	os.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(epoch, 10))
	defer os.Unsetenv("SOURCE_DATE_EPOCH")
	return fn()
}

package image

import (
	"fmt"
	"os"
	"strings"

	"github.com/oemkit/messenger/internal/fsutil"
)

// debSHA256 returns the sha256 of the kernel package deb. Hashing the
// 70 MB package costs about 0.3 s of CPU, in every build: the sum is kept
// next to it (deb + ".sha256") with the file's identity (device, inode,
// size, modification and change times), and reused while that identity is
// unchanged. Any write to the file changes its change time, which no
// program can set back, so a package changed in place is hashed again.
func debSHA256(deb string) (string, error) {
	fi, err := os.Stat(deb)
	if err != nil {
		return "", err
	}
	id := fileIdentity(fi)
	stamp := deb + ".sha256"
	if id != "" {
		if b, err := os.ReadFile(stamp); err == nil {
			if sum, ok := strings.CutPrefix(strings.TrimSpace(string(b)), id+" "); ok && len(sum) == 64 {
				return sum, nil
			}
		}
	}
	sum, err := fsutil.SHA256(deb)
	if err != nil {
		return "", err
	}
	if id != "" {
		// Best effort: without the stamp the next build hashes again.
		_ = fsutil.WriteFileAtomic(stamp, fmt.Appendf(nil, "%s %s\n", id, sum), 0o644)
	}
	return sum, nil
}

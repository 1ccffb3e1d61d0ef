package kmod

import (
	"bufio"
	"io"
	"strings"
)

// ParseProcModules returns the names of the modules listed in /proc/modules
// format ("name size refcount deps state address" per line).
func ParseProcModules(r io.Reader) (map[string]bool, error) {
	out := map[string]bool{}
	s := bufio.NewScanner(r)
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) == 0 {
			continue
		}
		if n := DepName(f[0]); n != "" {
			out[n] = true
		}
	}
	return out, s.Err()
}

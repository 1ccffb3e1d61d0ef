//go:build !linux

package console

import "io"

// IsTerminal reports false: progress is printed as plain lines.
func IsTerminal(io.Writer) bool { return false }

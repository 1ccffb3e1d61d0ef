//go:build !linux

package main

import "io"

// isTerminal reports false: progress is printed as plain lines.
func isTerminal(io.Writer) bool { return false }

//go:build !linux

package main

// smallStacks is a no-op off Linux (see stacks_linux.go).
func smallStacks() {}

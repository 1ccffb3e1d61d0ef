//go:build !linux

package feature

func scan(root string) ([]loaded, error) { return scanPortable(root) }

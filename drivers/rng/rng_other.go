//go:build !linux

package rng

import "github.com/oemkit/messenger/drivers/kmod"

// PoolReady reports true: other systems do not block on early randomness.
func PoolReady() bool { return true }

func poolReady() bool { return true }

func loadModules(names ...string) ([]string, error) { return nil, kmod.ErrNotLinux }

//go:build !linux

package audio

import "github.com/oemkit/messenger/drivers/kmod"

func loadModules(names ...string) ([]string, error) { return nil, kmod.ErrNotLinux }

//go:build !linux

package bcm2835

import "github.com/oemkit/messenger/drivers/kmod"

func loadModules(names ...string) ([]string, error) { return nil, kmod.ErrNotLinux }

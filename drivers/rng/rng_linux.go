package rng

import (
	"github.com/oemkit/messenger/drivers/kmod"
	"golang.org/x/sys/unix"
)

// PoolReady reports whether the kernel's random pool is initialised, so
// getrandom(2) does not block.
func PoolReady() bool { return poolReady() }

func poolReady() bool {
	var b [1]byte
	_, err := unix.Getrandom(b[:], unix.GRND_NONBLOCK)
	return err == nil
}

func loadModules(names ...string) ([]string, error) {
	idx, err := kmod.Open()
	if err != nil {
		return nil, err
	}
	return idx.Load(nil, names...)
}

//go:build !linux

package i2cdev

import (
	"errors"

	"periph.io/x/conn/v3/i2c"
)

// Open fails: /dev/i2c-N is Linux only.
func Open(devRoot string, n int) (i2c.BusCloser, error) {
	return nil, errors.New("i2cdev: /dev/i2c-N needs Linux")
}

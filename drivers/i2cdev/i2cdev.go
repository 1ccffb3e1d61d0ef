// Package i2cdev is an I2C bus on Linux's /dev/i2c-N character devices
// (the i2c-dev module), implementing periph's i2c.BusCloser with the
// I2C_RDWR ioctl.
package i2cdev

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Buses returns the bus numbers of the /dev/i2c-N nodes under devRoot
// ("/dev"), sorted.
func Buses(devRoot string) []int {
	m, _ := filepath.Glob(filepath.Join(devRoot, "i2c-*"))
	var out []int
	for _, p := range m {
		n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "i2c-"))
		if err == nil && n >= 0 {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

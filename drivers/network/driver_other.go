//go:build !linux

package network

import "errors"

// Init fails: the network driver needs Linux.
func (d *Driver) Init() (bool, error) {
	return false, errors.New("network: the network driver needs Linux")
}

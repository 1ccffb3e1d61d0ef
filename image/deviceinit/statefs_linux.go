//go:build sysgen_statefs

package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/oemkit/messenger/feature/settings"
)

// Settings keys of SYSGEN_STATEFS.
const (
	stateDeviceKey = "state.device"
	stateMountKey  = "state.mount"
)

// mountState mounts the persistent state partition (settings state.device
// on state.mount, ext4) before any service starts, so what services keep
// under it survives a reboot, as on a flashed device. It returns a line
// for the ready report; on failure state stays in RAM and the line says why.
func mountState(f *settings.File) string {
	if f == nil {
		return "in RAM: no settings file"
	}
	dev, err := f.Text(stateDeviceKey)
	if err != nil {
		return "in RAM: " + err.Error()
	}
	mnt, err := f.Text(stateMountKey)
	if err != nil {
		return "in RAM: " + err.Error()
	}
	dev = stateOnDisk(dev)
	if dev == "" || mnt == "" {
		return fmt.Sprintf("in RAM: set %s and %s in the design", stateDeviceKey, stateMountKey)
	}
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return fmt.Sprintf("in RAM: create %s: %v", mnt, err)
	}
	if err := unix.Mount(dev, mnt, "ext4", unix.MS_NOATIME, ""); err != nil {
		return fmt.Sprintf("in RAM: mount %s on %s: %v (is the state partition formatted ext4? sysgen boot creates one)", dev, mnt, err)
	}
	return fmt.Sprintf("%s on %s (ext4)", dev, mnt)
}

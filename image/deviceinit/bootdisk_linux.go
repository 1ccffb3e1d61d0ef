//go:build sysgen_statefs

package main

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// stateLabel is the GPT name of the state partition on a flashed disk
// (image/disk.StateLabel; not imported so the device links no disk writer).
const stateLabel = "sysgen-state"

// stateOnDisk returns the state partition of the disk the device booted
// from, when the loader started it from a slot (sysgen.slot= on the
// command line) and a partition named sysgen-state exists; otherwise dev,
// the state.device setting (a bare state disk, as -kernel boots have).
func stateOnDisk(dev string) string {
	cmdline, _ := os.ReadFile("/proc/cmdline")
	if !strings.Contains(" "+string(cmdline), " sysgen.slot=") {
		return dev
	}
	if p := partitionByName("/sys/class/block", stateLabel); p != "" {
		node := "/dev/" + p
		// devtmpfs creates the node a moment after sysfs shows it.
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if _, err := os.Stat(node); err == nil {
				break
			}
		}
		return node
	}
	return dev
}

// partitionByName finds the block device whose GPT partition name
// (PARTNAME in its uevent) is name, under a /sys/class/block folder.
func partitionByName(classBlock, name string) string {
	ents, err := os.ReadDir(classBlock)
	if err != nil {
		return ""
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(classBlock, e.Name(), "uevent"))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l == "PARTNAME="+name {
				return e.Name()
			}
		}
	}
	return ""
}

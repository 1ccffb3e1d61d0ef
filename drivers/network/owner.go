package network

import (
	"os"
	"path/filepath"
	"strings"
)

// deviceOwns reports whether interface ifname sits on NIC n: the
// interface's device path (/sys/class/net/X/device, resolved) is the NIC's
// sysfs device or below it (virtio-pci puts a virtioN device between them).
func deviceOwns(sysRoot string, n NIC, ifname string) bool {
	dev, err := filepath.EvalSymlinks(filepath.Join(sysRoot, "class", "net", ifname, "device"))
	if err != nil {
		return false
	}
	nd, err := filepath.EvalSymlinks(filepath.Join(sysRoot, "bus", n.Bus, "devices", n.Name))
	if err != nil {
		return false
	}
	return dev == nd || strings.HasPrefix(dev, nd+string(os.PathSeparator))
}

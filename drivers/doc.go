// Package drivers is the root of the device drivers that sysgen images carry.
//
// Each driver registers itself with periph's driverreg in init():
//
//	import (
//		"periph.io/x/conn/v3/driver/driverreg"
//		_ "github.com/oemkit/messenger/drivers/audio"
//		_ "github.com/oemkit/messenger/drivers/network"
//	)
//
//	state, err := driverreg.Init()
//
// A driver reports "skipped" (Init returns false) when its hardware is absent
// and "failed" (an error) when the hardware is there but could not be bound.
// Registered drivers: "network" (runs after "rng"), "rng" (virtio-rng, so
// the kernel random pool is seeded before DHCP and TLS), "audio", and
// "sgtl5000" (an I2C codec, via codec/sgtl5000).
//
// The sub-packages kmod, sysfs, virtio, audio/alsa, audio/convert, i2cdev
// and codec/sgtl5000 are the building blocks and can be used on their own.
// internal/vmcheck boots them for real under QEMU (plain go test; -short skips).
package drivers

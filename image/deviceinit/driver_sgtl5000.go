//go:build sysgen_audio_sgtl5000

package main

// The SGTL5000 codec driver (I2C control of an I2S codec) is linked when the
// design has SYSGEN_AUDIO_SGTL5000; it registers driver "sgtl5000", which
// driverreg.Init probes on the board's /dev/i2c-N buses.
import _ "github.com/oemkit/messenger/drivers/codec/sgtl5000"

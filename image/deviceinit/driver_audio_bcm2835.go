//go:build sysgen_audio_bcm2835

package main

// The Raspberry Pi's audio driver is linked when the design has
// SYSGEN_AUDIO_BCM2835; it registers driver "bcm2835-audio".
import _ "github.com/oemkit/messenger/drivers/audio/bcm2835"

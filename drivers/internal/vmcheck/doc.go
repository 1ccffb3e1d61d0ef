// Command vmcheck is a tiny /init for a QEMU guest that exercises the
// drivers for real: it mounts /proc, /sys and /dev, runs driverreg.Init
// (network and audio bind, modules load from /lib/modules), prints what was
// bound, opens a TCP connection to the address given as vmcheck.dial= on the
// kernel command line, plays a 1 kHz tone at 8 kHz mono through the audio
// driver (converted to what the HDA codec takes), captures a little, prints
// "VMCHECK OK" and reboots (QEMU runs with -no-reboot, so it exits).
//
// vm_test.go builds it, packs it with the needed modules into an initramfs,
// boots it with Debian's kernel and checks the console and QEMU's WAV output.
package main

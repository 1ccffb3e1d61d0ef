//go:build sysgen_rtc

package window

// VoiceInDesign: the image has SYSGEN_RTC, so the daemon takes calls and
// the window's hints name the call key.
const VoiceInDesign = true

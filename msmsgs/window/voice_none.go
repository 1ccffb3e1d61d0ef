//go:build !sysgen_rtc

package window

// VoiceInDesign: without SYSGEN_RTC the daemon has no calls (its call
// commands say why); the window does not offer the call key.
const VoiceInDesign = false

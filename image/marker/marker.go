// Package marker defines the console lines a device prints as it boots and
// the host (sysgen boot, the demo, the image tests) waits for. It has no
// imports, so the device init links it for free.
//
// Each device marker starts a line and is followed by one space and a JSON
// object:
//
//	DEVICEINIT-START {"uptime_ms":...}
//	DEVICE-DRIVERS {"loaded":[...],"skipped":[...],"failed":[...],...}
//	DEVICE-READY {"uptime_ms":...,"interfaces":[...],...}
//	DEVICE-TEST {"ok":true,...}
package marker

// Markers on the device console.
const (
	// Init is u-root's init banner: the kernel reached /init.
	Init = "Welcome to u-root!"
	// Start is the device init's first line.
	Start = "DEVICEINIT-START"
	// Drivers reports the drivers bound.
	Drivers = "DEVICE-DRIVERS"
	// Ready says the device is up (drivers bound, network configured).
	Ready = "DEVICE-READY"
	// Test is the self-test's result (only with devicetest.* flags).
	Test = "DEVICE-TEST"
)

// prefix starts every device marker.
const prefix = "DEVICE"

// Parse finds a device marker in a console line (the kernel may print in
// front of it) and returns the marker and the text after it. ok is false
// when the line has none.
func Parse(line string) (name, payload string, ok bool) {
	i := index(line, prefix)
	if i < 0 {
		return "", "", false
	}
	rest := line[i:]
	for j := 0; j < len(rest); j++ {
		if rest[j] == ' ' {
			return rest[:j], trimCR(rest[j+1:]), true
		}
	}
	return trimCR(rest), "", true
}

func trimCR(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\r' || s[len(s)-1] == '\n') {
		s = s[:len(s)-1]
	}
	return s
}

// index is strings.Index without the import.
func index(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
